/* Controllers write through the REST handlers themselves, in process: the same
 * validation, defaults, allocations, resourceVersion checks and watch events a kubectl
 * request gets, without a socket. */
#ifndef BPFLET_CTL_CLIENT_H
#define BPFLET_CTL_CLIENT_H

#include <jansson.h>

struct bl_apiserver;

/* method on path (an API URL, query allowed) with body (may be NULL; not stolen) as
 * ctype (NULL: application/json), as the system:masters user "system:kube-controller-manager".
 * Returns the HTTP status; *out (may be NULL) gets the answer's JSON, or NULL. */
int bl_ctl_request(struct bl_apiserver *srv, const char *method, const char *path,
		   const char *ctype, json_t *body, json_t **out);

/* The JSON objects stored under prefix (a /registry/... key prefix), as a new array
 * with resourceVersion set; NULL when the store fails. */
json_t *bl_ctl_list(struct bl_apiserver *srv, const char *prefix);

/* Records a core/v1 Event about obj (a Pod, Node...: kind names it) from component, in
 * obj's namespace or "default": type "Normal"/"Warning", reason, message. Best effort. */
void bl_ctl_record_event(struct bl_apiserver *srv, json_t *obj, const char *kind, const char *type,
			 const char *reason, const char *message, const char *component);

#endif
