/* PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
 * patch (merge patch with kubectl's "$..." directives dropped; lists are replaced, not
 * merged by key, until we carry the per-field merge keys). */
#ifndef BPFLET_CP_PATCH_H
#define BPFLET_CP_PATCH_H

#include <jansson.h>
#include <stddef.h>

/* New reference to the patched document; target is not changed. */
json_t *bl_merge_patch(json_t *target, json_t *patch);
json_t *bl_strategic_merge_patch(json_t *target, json_t *patch);
/* NULL with err set when an operation fails (bad path, failed test...). */
json_t *bl_json_patch(json_t *target, json_t *ops, char *err, size_t len);

#endif
