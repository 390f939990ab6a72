/*
 * The last good version of each Pod, Namespace and NetworkPolicy handed to the policy
 * compiler, so a bad edit (from manifests or the API) never silently lifts a policy's
 * isolation or opens what it closed: the bad version is reported by name and its last
 * good one compiled in its place. An object that never was good is left out, also
 * reported; the others compile untouched. Pure: no kernel.
 */
#ifndef BPFLET_NETPOL_KEEP_H
#define BPFLET_NETPOL_KEEP_H

#include "controlplane/compile/errlist.h"

#include <jansson.h>
#include <stddef.h>

struct bl_netpol_keep {
	json_t *good; /* "Kind ns/name" → its last good version (a reference) */
};

void bl_netpol_keep_init(struct bl_netpol_keep *k);
void bl_netpol_keep_free(struct bl_netpol_keep *k);

/* Works on objs[0..n) in place: a good object is remembered; a bad one is reported in
 * errs and replaced by its last good version (owned by k, valid until the next call)
 * or, without one, removed. Objects not in objs are forgotten. Returns the new count. */
size_t bl_netpol_keep_apply(struct bl_netpol_keep *k, json_t **objs, size_t n,
			    struct bl_errlist *errs);

#endif
