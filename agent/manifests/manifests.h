/*
 * Kubernetes objects from a directory of manifests (*.yaml, *.yml, *.json; hidden
 * and other files ignored). Multi-document YAML, JSON streams and `kind: List`
 * (or FooList) with items are flattened into single objects.
 *
 * Per-file last-good: a file that does not parse, or holds an object that fails
 * validation (Service, EndpointSlice), keeps the objects of its last good version and
 * reports why; a deleted file drops its objects.
 */
#ifndef BPFLET_MANIFESTS_H
#define BPFLET_MANIFESTS_H

#include "controlplane/compile/errlist.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define BL_MANIFEST_MAX_BYTES (16u << 20)

struct bl_manifest_file {
	char *name;    /* file name inside the directory */
	char *content; /* bytes last read: a change is a byte difference, no hashing */
	size_t len;
	json_t *objs; /* JSON array of the last good objects; NULL before the first */
	bool bad;     /* current content failed: objs (if any) are from an older version */
	struct bl_errlist errs; /* why the current content failed, re-reported each load */
};

struct bl_manifest_cache {
	size_t n;
	struct bl_manifest_file *files; /* sorted by name */
	bool changed; /* the last load changed the objects (skip no-op resyncs if false) */
	unsigned long generation; /* bumped by every load that changed the objects */
};

void bl_manifest_cache_init(struct bl_manifest_cache *c);
void bl_manifest_cache_free(struct bl_manifest_cache *c);

/* Re-reads dir. Every current problem is appended to errs (may be NULL) as
 * "file: document N (Kind ns/name): field.path: reason" or "file: line L column C: ..."
 * and logged once when first seen. Returns the number of files in error (0 = all
 * good), or -errno when dir cannot be read (the cache is left as it was). */
int bl_manifest_dir_load(struct bl_manifest_cache *c, const char *dir, struct bl_errlist *errs);

/* All current objects, files in name order, documents in file order. *objs is a
 * malloc'd array (free() it) of borrowed pointers, valid until the next load or free.
 * Returns 0 or -ENOMEM. */
int bl_manifest_cache_objects(const struct bl_manifest_cache *c, json_t ***objs, size_t *n);

/* Parses one file's bytes (format chosen by fname's extension) into a JSON array of
 * validated objects. Returns 0, or -EINVAL with every problem appended to errs, each
 * prefixed with fname. Exposed for tests and tools. */
int bl_manifest_parse(const char *fname, const char *buf, size_t len, json_t **objs,
		      struct bl_errlist *errs);
/* True for names the loader reads: not hidden, ending .yaml, .yml or .json. */
bool bl_manifest_wanted(const char *fname);

#endif
