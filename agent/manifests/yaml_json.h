/*
 * YAML and JSON streams → json_t documents, typed the way Kubernetes' YAML reader
 * (sigs.k8s.io/yaml, YAML 1.1 rules) types plain scalars: `80` is an integer, `"80"`
 * a string, `true`/`yes`/`on` booleans, `~`/`null`/empty null. Anchors and aliases
 * work; mapping keys are always strings; duplicate keys are an error.
 */
#ifndef BPFLET_YAML_JSON_H
#define BPFLET_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* On success *docs is a new JSON array with one entry per document (json null for an
 * empty document). Returns 0, or -EINVAL with "line L column C: reason" in err. */
int bl_yaml_load(const char *buf, size_t len, json_t **docs, char *err, size_t errlen);
/* Same contract for a stream of concatenated JSON values. */
int bl_json_stream_load(const char *buf, size_t len, json_t **docs, char *err, size_t errlen);

/* The JSON value a plain (unquoted, untagged) YAML scalar stands for. */
json_t *bl_yaml_plain_scalar(const char *s, size_t len);

#endif
