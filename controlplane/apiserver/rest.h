/* The generic REST handlers: one set of verbs for every resource in the table. */
#ifndef BPFLET_CP_REST_H
#define BPFLET_CP_REST_H

#include "controlplane/apiserver/exchange.h"
#include "controlplane/apiserver/resources.h"
#include "controlplane/apiserver/selector.h"

#include <jansson.h>

#define BL_NAME_MAX 254

struct bl_route {
	const struct bl_resource *res;
	char ns[BL_NAME_MAX];	/* "" when the URL names none */
	char name[BL_NAME_MAX]; /* "" for the collection */
	char sub[32];		/* "status", ... or "" */
	bool watch_path;	/* legacy /api/v1/watch/... URLs */
};

/* 0: r is filled; -1: not a resource URL of ours (404). */
int bl_route_parse(const char *path, struct bl_route *r);
/* The verb kube's authorizer would see: get list watch create update patch delete
 * deletecollection */
const char *bl_route_verb(struct hx *x, const struct bl_route *r);

void bl_rest_handle(struct hx *x, const struct bl_route *r);

/* rest_read.c */
void bl_rest_get(struct hx *x, const struct bl_route *r);
void bl_rest_list(struct hx *x, const struct bl_route *r);
/* rest_write.c */
void bl_rest_create(struct hx *x, const struct bl_route *r);
void bl_rest_update(struct hx *x, const struct bl_route *r);
void bl_rest_patch(struct hx *x, const struct bl_route *r);
/* obj (stolen) through create's checks and defaults into the store */
void bl_rest_create_obj(struct hx *x, const struct bl_route *r, json_t *obj);
/* obj (stolen) replaces old (read at old_rev) under key, with update's rules */
void bl_rest_finish_update(struct hx *x, const struct bl_route *r, const char *key, json_t *old,
			   int64_t old_rev, json_t *obj);
/* The stored object of r (key filled in), or NULL after answering the error */
json_t *bl_rest_load(struct hx *x, const struct bl_route *r, char *key, size_t keylen,
		     int64_t *rev);
/* rest_apply.c: server-side apply (PATCH application/apply-patch+yaml) */
void bl_rest_apply(struct hx *x, const struct bl_route *r);
/* rest_delete.c */
void bl_rest_delete(struct hx *x, const struct bl_route *r);
void bl_rest_delete_collection(struct hx *x, const struct bl_route *r);
/* binding.c: POST pods/NAME/binding */
void bl_rest_bind(struct hx *x, const struct bl_route *r);
/* watch.c */
void bl_rest_watch(struct hx *x, const struct bl_route *r);

/* Shared by the handlers. */
struct bl_filter {
	struct bl_selector *labels, *fields;
};
/* Parses labelSelector and fieldSelector; on error answers 400 and returns -1. */
int bl_filter_parse(struct hx *x, const struct bl_route *r, struct bl_filter *f);
bool bl_filter_match(const struct bl_filter *f, json_t *obj);
/* No selector says anything: every object matches without being looked at. */
bool bl_filter_empty(const struct bl_filter *f);
void bl_filter_free(struct bl_filter *f);
/* "v1" / "group/version" and "XList" for list bodies */
void bl_list_kind(const struct bl_resource *res, char *buf, size_t len);
/* New content (res named name) may go into namespace ns? Else answers 404 (no such
 * namespace) or 403 (it is being terminated, kube's NamespaceLifecycle words) and returns
 * false. */
bool bl_namespace_accepts(struct hx *x, const char *ns, const struct bl_resource *res,
			  const char *name);

#endif
