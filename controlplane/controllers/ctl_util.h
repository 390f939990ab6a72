/* Small pure helpers the controllers share: dotted-path reads of JSON objects, RFC 3339
 * times, and status conditions. */
#ifndef BPFLET_CTL_UTIL_H
#define BPFLET_CTL_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

/* obj at path "a.b.c" (object members only), or NULL. */
json_t *bl_ctl_get(json_t *obj, const char *path);
/* obj's member key, made an empty object (array) first when it is not one. */
json_t *bl_ctl_child(json_t *obj, const char *key, bool array);
/* The string at path, or NULL. */
const char *bl_ctl_str(json_t *obj, const char *path);

/* "2026-01-02T03:04:05[.ffffff](Z|+hh:mm)" → seconds since the epoch; -1 when not one. */
double bl_ctl_time(const char *s);

/* The status.conditions entry of type, or NULL. */
json_t *bl_ctl_condition(json_t *obj, const char *type);
/* Sets status.conditions[type] to status/reason/message (reason, message may be NULL),
 * creating it when missing; lastTransitionTime becomes now_ts when status changes.
 * Returns true when anything but times changed. */
bool bl_ctl_set_condition(json_t *obj, const char *type, const char *status, const char *reason,
			  const char *message, const char *now_ts);

#endif
