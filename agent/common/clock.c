#include "agent/common/clock.h"

#include <stdio.h>
#include <time.h>

double bl_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bl_now_rfc3339(char *buf, size_t len, bool micro)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(buf, len, "%.19s.%06dZ", base, (int)(ts.tv_nsec / 1000));
	else
		snprintf(buf, len, "%sZ", base);
}
