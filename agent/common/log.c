#include "agent/common/log.h"

#include <stdio.h>
#include <time.h>

static enum bl_log_level min_level = BL_LOG_INFO;
static const char *log_prefix = "bpflet";

void bl_log_set_level(enum bl_log_level lvl)
{
	min_level = lvl;
}

void bl_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void bl_log(enum bl_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (lvl < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s %s: ", when, ts.tv_nsec / 1000000, log_prefix, names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
