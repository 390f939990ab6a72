/* Who is calling: a client certificate signed by our CA (CN = user, O = groups) or a
 * bearer token from DIR/tokens.csv (kube-apiserver's --token-auth-file format:
 * token,user,uid,"group1,group2"). */
#ifndef BPFLET_CP_AUTHN_H
#define BPFLET_CP_AUTHN_H

#include "controlplane/apiserver/exchange.h"

struct bl_tokens;

/* A missing file is an empty table. Returns NULL only on a malformed file (logged). */
struct bl_tokens *bl_tokens_load(const char *path);
void bl_tokens_free(struct bl_tokens *t);

/* Fills x->user; false: no valid credentials (401). */
bool bl_authenticate(struct bl_tokens *t, struct hx *x);

#endif
