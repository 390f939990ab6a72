/* A tiny test harness in the style of the kernel's BPF selftests: named cases, every
 * failed expectation printed with its reason, and a closing "N passed, N failed". */
#ifndef BPFLET_TEST_HARNESS_H
#define BPFLET_TEST_HARNESS_H

#include <stdio.h>

extern int harness_case_failed;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("    %s:%d: expected %s: ", __FILE__, __LINE__, #cond);             \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			harness_case_failed = 1;                                                   \
		}                                                                                  \
	} while (0)

/* Stops the case when a precondition fails. */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		EXPECT(cond, __VA_ARGS__);                                                         \
		if (!(cond))                                                                       \
			return;                                                                    \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Runs every case (setup before each) and prints the summary; returns the exit code. */
int harness_run(const struct test_case *cases, int n, void (*setup)(void));

#endif
