#include "controlplane/compile/errlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_errlist_init(struct bl_errlist *e)
{
	memset(e, 0, sizeof(*e));
}

void bl_errlist_add(struct bl_errlist *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	if (!e)
		return;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		char **m = realloc(e->msgs, cap * sizeof(*m));

		if (!m)
			return;
		e->msgs = m;
		e->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	e->msgs[e->n++] = msg;
}

void bl_errlist_clear(struct bl_errlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msgs[i]);
	e->n = 0;
}

void bl_errlist_free(struct bl_errlist *e)
{
	bl_errlist_clear(e);
	free(e->msgs);
	memset(e, 0, sizeof(*e));
}

int bl_errlist_contains(const struct bl_errlist *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], needle))
			return 1;
	return 0;
}
