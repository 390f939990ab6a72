/* ObjectMeta chores: uids, timestamps, names, resourceVersion in and out of the store. */
#ifndef BPFLET_CP_OBJMETA_H
#define BPFLET_CP_OBJMETA_H

#include "controlplane/store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* RFC 4122 version 4, 37 bytes with the NUL */
void bl_uuid(char buf[37]);
/* RFC 3339 UTC, second precision: "2025-01-02T03:04:05Z"; buf of 32 */
void bl_timestamp(time_t t, char buf[32]);
/* 5 characters from kube's generateName alphabet appended to prefix */
void bl_generate_name(const char *prefix, char *buf, size_t len);

/* NULL when valid, else why not (kube's messages). label: DNS-1123 label (namespaces,
 * services), otherwise a DNS-1123 subdomain. */
const char *bl_name_invalid(const char *name, bool label);

/* metadata, created when missing */
json_t *bl_meta(json_t *obj);
const char *bl_meta_str(json_t *obj, const char *field);

/* The stored object with metadata.resourceVersion = its revision; NULL if corrupt. */
json_t *bl_obj_from_kv(const struct bl_kv *kv);
void bl_obj_set_rv(json_t *obj, int64_t rev);
/* The JSON to store: resourceVersion is the row's revision, never part of the value. */
char *bl_obj_encode(json_t *obj, size_t *len);
/* "123" → 123; -1 when not a plain number */
int64_t bl_parse_rv(const char *s);

#endif
