/* A strict JSON reader that only finds where values start and end, without building
 * anything: for taking objects out of a larger text as they are (a list's items, a
 * stored object) and parsing at most one of them at a time. */
#ifndef BPFLET_JSON_SKIP_H
#define BPFLET_JSON_SKIP_H

#include <stdbool.h>
#include <stddef.h>

/* Past the whitespace at p. */
const char *bl_json_ws(const char *p, const char *end);
/* The end of the one JSON value at p (no leading whitespace), or NULL when the text
 * there is not JSON. */
const char *bl_json_skip(const char *p, const char *end);

/* Called per member of an object (key: its text between the quotes, escapes as
 * written) or element of an array (key NULL), with the value's text [v, v_end).
 * Returns false to stop. */
typedef bool (*bl_json_each_cb)(void *arg, const char *key, size_t key_len, const char *v,
				const char *v_end);
/* Walks the object or array at p (no leading whitespace), checking it whole: the end of
 * it, or NULL when it is not well-formed or cb stopped. */
const char *bl_json_each(const char *p, const char *end, bl_json_each_cb cb, void *arg);
/* key_len bytes at key are exactly name. */
bool bl_json_key_is(const char *key, size_t key_len, const char *name);

#endif
