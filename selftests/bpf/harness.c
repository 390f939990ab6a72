#include "selftests/bpf/harness.h"

#include <stdarg.h>

static int checks;	 /* checks made by the running case */
static char reason[256]; /* its first failure, empty while it holds */

bool harness_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	checks++;
	if (ok)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("    %s:%d: expected %s: %s\n", file, line, expr, msg);
	if (!reason[0])
		snprintf(reason, sizeof(reason), "%s (%s:%d)", msg, file, line);
	return false;
}

int harness_run(const struct test_case *cases, int n, void (*setup)(void))
{
	int passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		checks = 0;
		reason[0] = '\0';
		if (setup)
			setup();
		cases[i].fn();
		if (!reason[0] && checks == 0)
			snprintf(reason, sizeof(reason), "the case checked nothing");
		if (reason[0]) {
			printf("FAIL: %s: %s\n", cases[i].name, reason);
			failed++;
		} else {
			printf("ok - %s (%d checks)\n", cases[i].name, checks);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
