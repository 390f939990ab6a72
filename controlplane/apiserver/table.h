/* meta.k8s.io/v1 Table answers, which kubectl get asks for (Accept: ...;as=Table). */
#ifndef BPFLET_CP_TABLE_H
#define BPFLET_CP_TABLE_H

#include "controlplane/apiserver/exchange.h"
#include "controlplane/apiserver/resources.h"

#include <jansson.h>

bool bl_wants_table(struct hx *x);
/* obj (stolen): one object, or a list when is_list. */
json_t *bl_table_of(const struct bl_resource *res, json_t *obj, bool is_list);
/* kube's short ages: 45s, 3m20s, 5h, 12d... */
void bl_human_age(long long secs, char *buf, size_t len);

#endif
