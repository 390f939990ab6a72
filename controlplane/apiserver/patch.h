/* PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
 * patch (smp.c: lists merged by the built-in types' merge keys, $patch directives). */
#ifndef BPFLET_CP_PATCH_H
#define BPFLET_CP_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* New reference to the patched document; target is not changed. */
json_t *bl_merge_patch(json_t *target, json_t *patch);
/* NULL with err set for a bad directive or a list element without its merge key. */
json_t *bl_strategic_merge_patch(json_t *target, json_t *patch, char *err, size_t len);
/* The merge key of the list at path ("spec.containers"), "" for a set of primitives,
 * NULL when the list is replaced as a whole. */
const char *bl_smp_merge_key(const char *path);
/* NULL with err set when an operation fails (bad path, failed test...). */
json_t *bl_json_patch(json_t *target, json_t *ops, char *err, size_t len);

#endif
