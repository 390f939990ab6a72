/* Filling a CNI error: code, a one-line message and optional details. */
#include "agent/cni/cni.h"

#include <stdarg.h>
#include <stdio.h>

void cni_set_error(struct cni_error *e, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	snprintf(e->details, sizeof(e->details), "%s", details ? details : "");
}
