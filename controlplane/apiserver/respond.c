#include "controlplane/apiserver/respond.h"
#include "controlplane/store/store.h"
#include "agent/common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_reply_json(struct hx *x, int code, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	size_t n = s ? strlen(s) : 0;

	json_decref(obj);
	if (!s) {
		x->ops->reply(x, 500, "text/plain", "encoding failed\n", 16);
		return;
	}
	/* one trailing newline, as kube-apiserver ends its bodies */
	s = realloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	x->ops->reply(x, code, "application/json", s, n + 1);
	free(s);
}

json_t *bl_status_new(int code, const char *reason, const char *message)
{
	json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
			       "v1", "metadata", "status", code < 400 ? "Success" : "Failure",
			       "message", message, "code", code);

	if (st && reason && reason[0])
		json_object_set_new(st, "reason", json_string(reason));
	return st;
}

static json_t *details(const struct bl_resource *res, const char *name)
{
	json_t *d = json_object();

	if (name && name[0])
		json_object_set_new(d, "name", json_string(name));
	if (res->group[0])
		json_object_set_new(d, "group", json_string(res->group));
	json_object_set_new(d, "kind", json_string(res->name));
	return d;
}

void bl_reply_status(struct hx *x, int code, const char *reason, const char *message,
		     const struct bl_resource *res, const char *name)
{
	json_t *st = bl_status_new(code, reason, message);

	if (res)
		json_object_set_new(st, "details", details(res, name));
	log_debug("%s %s -> %d %s", x->method, x->uri, code, message);
	bl_reply_json(x, code, st);
}

void bl_reply_statusf(struct hx *x, int code, const char *reason, const struct bl_resource *res,
		      const char *name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bl_reply_status(x, code, reason, msg, res, name);
}

void bl_reply_invalid(struct hx *x, const struct bl_resource *res, const char *name,
		      const char *field, const char *cause_reason, const char *detail)
{
	char msg[1024];
	json_t *st, *d;

	snprintf(msg, sizeof(msg), "%s \"%s\" is invalid: %s: %s", res->kind, name ? name : "",
		 field, detail);
	st = bl_status_new(422, "Invalid", msg);
	d = details(res, name);
	json_object_set_new(d, "kind", json_string(res->kind));
	json_object_set_new(d, "causes",
			    json_pack("[{s:s, s:s, s:s}]", "reason", cause_reason, "message",
				      detail, "field", field));
	json_object_set_new(st, "details", d);
	bl_reply_json(x, 422, st);
}

void bl_reply_store_err(struct hx *x, int err, const struct bl_resource *res, const char *name)
{
	char q[128];

	bl_resource_qualified(res, q, sizeof(q));
	switch (err) {
	case BL_STORE_NOT_FOUND:
		bl_reply_statusf(x, 404, "NotFound", res, name, "%s \"%s\" not found", q, name);
		break;
	case BL_STORE_EXISTS:
		bl_reply_statusf(x, 409, "AlreadyExists", res, name, "%s \"%s\" already exists", q,
				 name);
		break;
	case BL_STORE_CONFLICT:
		bl_reply_statusf(x, 409, "Conflict", res, name,
				 "Operation cannot be fulfilled on %s \"%s\": the object has been "
				 "modified; please apply your changes to the latest version and "
				 "try again",
				 q, name);
		break;
	case BL_STORE_COMPACTED:
		bl_reply_status(x, 410, "Expired",
				"The provided continue parameter is too old to display a "
				"consistent list result. You can start a new list without the "
				"continue parameter.",
				NULL, NULL);
		break;
	case BL_STORE_FUTURE:
		bl_reply_status(x, 504, "Timeout", "Too large resource version", NULL, NULL);
		break;
	default:
		bl_reply_status(x, 500, "InternalError", "storage error", NULL, NULL);
	}
}
