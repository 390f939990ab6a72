/* A tiny test harness in the style of the kernel's BPF selftests: named cases, every
 * failed expectation printed with its reason, and a closing "N passed, N failed". A
 * case passes only if it checked something and nothing it checked failed. */
#ifndef BPFLET_TEST_HARNESS_H
#define BPFLET_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>

/* Records one check; prints and keeps the reason when it failed. Returns ok. */
bool harness_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define EXPECT(cond, ...) harness_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* Stops the case when a precondition fails. */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!EXPECT(cond, __VA_ARGS__))                                                    \
			return;                                                                    \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* Runs every case (setup before each), prints "ok - name" or "FAIL: name: reason" per
 * case and the summary; returns the exit code. */
int harness_run(const struct test_case *cases, int n, void (*setup)(void));

#endif
