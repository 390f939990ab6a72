/* A growable list of human-readable errors, filled by the loaders and the compiler so
 * one bad object is reported and skipped instead of stopping everything. */
#ifndef BPFLET_ERRLIST_H
#define BPFLET_ERRLIST_H

#include <stddef.h>

struct bl_errlist {
	size_t n, cap;
	char **msgs; /* each malloc'd, no trailing newline */
};

void bl_errlist_init(struct bl_errlist *e);
/* Appends one message (dropped silently on ENOMEM: errors are best effort). */
void bl_errlist_add(struct bl_errlist *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Removes all messages, keeps the list usable. */
void bl_errlist_clear(struct bl_errlist *e);
void bl_errlist_free(struct bl_errlist *e);
/* True when some message contains `needle` (tests and callers that grep). */
int bl_errlist_contains(const struct bl_errlist *e, const char *needle);

#endif
