/* Value checks of known fields, after the type checks (validate_types.h): what kube's
 * validation refuses with 422 although the JSON types are right. */
#ifndef BPFLET_CP_VALIDATE_VALUES_H
#define BPFLET_CP_VALIDATE_VALUES_H

#include <jansson.h>
#include <stddef.h>

/* 0 when obj (a kind's object) passes; else -1 with field ("spec.externalIPs[0]"), detail
 * ("Invalid value: ...") and *reason (the cause: "FieldValueInvalid", ...) filled. */
int bl_validate_values(const char *kind, json_t *obj, char *field, size_t flen, char *detail,
		       size_t dlen, const char **reason);

#endif
