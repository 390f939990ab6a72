/* Answers: JSON objects and Kubernetes Status errors. */
#ifndef BPFLET_CP_RESPOND_H
#define BPFLET_CP_RESPOND_H

#include "controlplane/apiserver/exchange.h"
#include "controlplane/apiserver/resources.h"

#include <jansson.h>

/* Sends obj (reference stolen) and ends the exchange. */
void bl_reply_json(struct hx *x, int code, json_t *obj);

/* A Status object: code, reason ("NotFound"), message; details name the object when res
 * is set. */
void bl_reply_status(struct hx *x, int code, const char *reason, const char *message,
		     const struct bl_resource *res, const char *name);
void bl_reply_statusf(struct hx *x, int code, const char *reason, const struct bl_resource *res,
		      const char *name, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* 422 Invalid: 'Kind "name" is invalid: field: detail' with one cause. */
void bl_reply_invalid(struct hx *x, const struct bl_resource *res, const char *name,
		      const char *field, const char *cause_reason, const char *detail);

/* Maps a store error to its Status (404, 409, 410, 500...). */
void bl_reply_store_err(struct hx *x, int err, const struct bl_resource *res, const char *name);

/* The Status object alone (watch ERROR events carry one). */
json_t *bl_status_new(int code, const char *reason, const char *message);

#endif
