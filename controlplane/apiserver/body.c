#include "controlplane/apiserver/body.h"
#include "controlplane/apiserver/pb_decode.h"
#include "controlplane/apiserver/respond.h"

#include <stdio.h>
#include <string.h>

json_t *bl_body_json(struct hx *x, bool any_json)
{
	json_error_t err;
	json_t *obj;

	if (x->content_type && strstr(x->content_type, "application/vnd.kubernetes.protobuf")) {
		char why[256];

		obj = bl_pb_decode_object((const uint8_t *)(x->body ? x->body : ""), x->body_len,
					  why, sizeof(why));
		if (!obj)
			bl_reply_statusf(
				x, 415, "UnsupportedMediaType", NULL, NULL,
				"the protobuf body could not be read (%s) - accepted media "
				"types include: application/json",
				why);
		return obj;
	}
	if (x->content_type &&
	    (strstr(x->content_type, "protobuf") || strstr(x->content_type, "yaml"))) {
		bl_reply_statusf(x, 415, "UnsupportedMediaType", NULL, NULL,
				 "the body of the request was in an unknown format - accepted "
				 "media types include: application/json");
		return NULL;
	}
	obj = json_loadb(x->body ? x->body : "", x->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!obj) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "couldn't get version/kind; json parse error: %s (line %d, "
				 "column %d)",
				 err.text, err.line, err.column);
		return NULL;
	}
	if (!any_json && !json_is_object(obj)) {
		json_decref(obj);
		bl_reply_status(x, 400, "BadRequest",
				"couldn't get version/kind; json parse error: the body is not a "
				"JSON object",
				NULL, NULL);
		return NULL;
	}
	return obj;
}

int bl_body_check_type(struct hx *x, const struct bl_route *r, json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char want[96];

	bl_resource_api_version(r->res, want, sizeof(want));
	if (av && strcmp(av, want)) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "the API version in the data (%s) does not match the expected API "
				 "version (%s)",
				 av, want);
		return -1;
	}
	if (kind && strcmp(kind, r->res->kind)) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "the kind in the data (%s) does not match the expected kind (%s)",
				 kind, r->res->kind);
		return -1;
	}
	json_object_set_new(obj, "apiVersion", json_string(want));
	json_object_set_new(obj, "kind", json_string(r->res->kind));
	return 0;
}
