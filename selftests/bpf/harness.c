#include "selftests/bpf/harness.h"

int harness_case_failed;

int harness_run(const struct test_case *cases, int n, void (*setup)(void))
{
	int passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		harness_case_failed = 0;
		if (setup)
			setup();
		cases[i].fn();
		if (harness_case_failed) {
			printf("FAIL - %s\n", cases[i].name);
			failed++;
		} else {
			printf("ok   - %s\n", cases[i].name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
