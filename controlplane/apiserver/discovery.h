/* Discovery documents and health endpoints. */
#ifndef BPFLET_CP_DISCOVERY_H
#define BPFLET_CP_DISCOVERY_H

#include "controlplane/apiserver/exchange.h"

/* Paths anyone may read without credentials: /version, /healthz, /livez, /readyz. */
bool bl_discovery_public(const char *path);
/* Answers discovery and health paths; false when path is none of them. */
bool bl_discovery_handle(struct hx *x);
/* openapi.c: /openapi/v3 index and per-group-version PATCH operations; false when path
 * is not under /openapi/ */
bool bl_openapi_handle(struct hx *x);

#endif
