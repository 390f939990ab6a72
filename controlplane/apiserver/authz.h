/* Who may do what: system:masters everything; nodes (system:node:NAME in system:nodes)
 * read what a node agent needs and write only their own Node, their own Lease, events,
 * and the pods bound to them. Everyone else is forbidden resources for now. */
#ifndef BPFLET_CP_AUTHZ_H
#define BPFLET_CP_AUTHZ_H

#include "controlplane/apiserver/rest.h"

/* false: answer 403 */
bool bl_authorize(struct hx *x, const char *verb, const struct bl_route *r);
/* non-resource paths (discovery) */
bool bl_authorize_path(struct hx *x);

#endif
