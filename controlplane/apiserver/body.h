/* Request bodies → objects: JSON decoding and the apiVersion/kind checks every write does. */
#ifndef BPFLET_CP_BODY_H
#define BPFLET_CP_BODY_H

#include "controlplane/apiserver/rest.h"

/* The body as a JSON object; NULL after answering 400/415. */
json_t *bl_body_json(struct hx *x, bool any_json);
/* apiVersion/kind must be the resource's (set when missing); else answers 400. */
int bl_body_check_type(struct hx *x, const struct bl_route *r, json_t *obj);

#endif
