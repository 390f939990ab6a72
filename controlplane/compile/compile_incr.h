/*
 * The compiler, one Service at a time: each Service (with every definition of it and
 * the EndpointSlices naming it) is compiled alone and kept, so a change recompiles
 * only that Service, and the frontends whose record changed are handed out for a
 * delta write. What comes out equals bl_compile_services on all the objects: when two
 * Services claim one frontend the first by "namespace/name" keeps it, health-check
 * ports and source ranges are merged the same way.
 */
#ifndef BPFLET_COMPILE_INCR_H
#define BPFLET_COMPILE_INCR_H

#include "controlplane/compile/compile.h"

struct bl_compile_incr;

struct bl_compile_incr *bl_compile_incr_new(void);
void bl_compile_incr_free(struct bl_compile_incr *ci);

/* Service `key` ("namespace/name") now compiles from these (all its definitions and
 * every slice whose service-name label names it); nothing given: it is gone. The
 * frontends it had and has become changed. 0 or -ENOMEM (then the Service keeps its
 * previous result). */
int bl_compile_incr_set(struct bl_compile_incr *ci, const char *key,
			const struct bl_k8s_service *svcs, size_t n_svcs,
			const struct bl_k8s_endpointslice *slices, size_t n_slices,
			const struct bl_compile_opts *opts, struct bl_errlist *errs);

/* A full rebuild: begin, set every Service there is, end; Services not set in
 * between are dropped (their frontends become changed). */
void bl_compile_incr_begin(struct bl_compile_incr *ci);
void bl_compile_incr_end(struct bl_compile_incr *ci);

/* The frontends changed since the last take: those still claimed in *fe (their
 * owner's record, borrowed until the next set/end), the others' keys in *gone
 * (malloc'd). Conflicts are reported in errs. 0 or -ENOMEM (nothing taken then). */
int bl_compile_incr_take(struct bl_compile_incr *ci, const struct bl_svc_frontend ***fe, size_t *n,
			 struct bpflet_fe_key **gone, size_t *n_gone, struct bl_errlist *errs);

/* Every frontend's owner record (borrowed, in no particular order). 0 or -ENOMEM. */
int bl_compile_incr_all(const struct bl_compile_incr *ci, const struct bl_svc_frontend ***fe,
			size_t *n);

/* Health checks and source ranges of all Services, merged; recomputed only after a
 * Service that has or had one changed (*changed says so). Borrowed in out->hc/src. */
int bl_compile_incr_extras(struct bl_compile_incr *ci, const struct bl_svc_table **out,
			   bool *changed, struct bl_errlist *errs);

size_t bl_compile_incr_services(const struct bl_compile_incr *ci);

#endif
