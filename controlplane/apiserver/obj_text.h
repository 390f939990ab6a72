/* Stored objects written out as they are stored: the JSON text from the store with
 * metadata.resourceVersion put in, without building a jansson tree (lists of 10k
 * objects and watch events to many watchers spend their time there otherwise). */
#ifndef BPFLET_CP_OBJ_TEXT_H
#define BPFLET_CP_OBJ_TEXT_H

#include "controlplane/store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing text; oom set once an append failed (the text is then incomplete). */
struct bl_text {
	char *p;
	size_t n, cap;
	bool oom;
};

void bl_text_add(struct bl_text *t, const char *s, size_t n);
void bl_text_adds(struct bl_text *t, const char *s);
void bl_text_free(struct bl_text *t);

/* Appends the object stored in kv with "resourceVersion":"<rev>" first in its
 * metadata. -1 (t unchanged) when the text is not one well-formed JSON object with a
 * metadata object, or its metadata already names a resourceVersion: the caller then
 * goes through jansson. */
int bl_text_add_obj(struct bl_text *t, const struct bl_kv *kv, int64_t rev);

#endif
