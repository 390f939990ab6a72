/* Type checks of the known fields of the built-in kinds, before anything is stored: a
 * string where an integer belongs (and so on) is 422 Invalid, as kube's decoding and
 * validation refuse it. */
#ifndef BPFLET_CP_VALIDATE_TYPES_H
#define BPFLET_CP_VALIDATE_TYPES_H

#include <jansson.h>
#include <stddef.h>

/* 0 when every known field of obj (a kind's object) has its type; else -1 with field
 * ("spec.ports[0].port") and detail filled. */
int bl_validate_types(const char *kind, json_t *obj, char *field, size_t flen, char *detail,
		      size_t dlen);

#endif
