#include "controlplane/controllers/client.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/rest.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct local_hx {
	struct hx x;
	int code;
	json_t *answer;
};

static void local_reply(struct hx *x, int status, const char *ctype, const char *body, size_t len)
{
	struct local_hx *l = (struct local_hx *)x;

	(void)ctype;
	l->code = status;
	json_decref(l->answer);
	l->answer = json_loadb(body, len, 0, NULL);
}

/* The REST verbs used here never stream (no watch); an answer started as a stream is
 * still an answer: its status is kept, its body dropped. */
static void local_stream_start(struct hx *x, int status, const char *ctype)
{
	(void)ctype;
	((struct local_hx *)x)->code = status;
}

static void local_stream_write(struct hx *x, const char *data, size_t len)
{
	(void)x;
	(void)data;
	(void)len;
}

static void local_stream_end(struct hx *x)
{
	(void)x;
}

static const struct hx_ops local_ops = {
	.reply = local_reply,
	.stream_start = local_stream_start,
	.stream_write = local_stream_write,
	.stream_end = local_stream_end,
};

int bl_ctl_request(struct bl_apiserver *srv, const char *method, const char *path,
		   const char *ctype, json_t *body, json_t **out)
{
	struct local_hx l = {.x = {.ops = &local_ops, .srv = srv, .proto = "local"}, .code = 0};
	struct bl_route r;
	char *enc = NULL;

	if (out)
		*out = NULL;
	if (hx_init(&l.x, method, path)) {
		hx_cleanup(&l.x);
		return 400;
	}
	snprintf(l.x.user.name, sizeof(l.x.user.name), "system:kube-controller-manager");
	l.x.user.ngroups = 1;
	snprintf(l.x.user.groups[0], sizeof(l.x.user.groups[0]), "system:masters");
	l.x.content_type = ctype ? ctype : "application/json";
	if (body) {
		enc = json_dumps(body, JSON_COMPACT);
		l.x.body = enc;
		l.x.body_len = enc ? strlen(enc) : 0;
	}
	if (bl_route_parse(l.x.path, &r))
		l.code = 404;
	else
		bl_rest_handle(&l.x, &r);
	free(enc);
	hx_cleanup(&l.x);
	if (l.code >= 300)
		log_debug("controller %s %s -> %d %s", method, path, l.code,
			  json_string_value(json_object_get(l.answer, "message")) ?: "");
	if (out)
		*out = l.answer;
	else
		json_decref(l.answer);
	return l.code;
}

json_t *bl_ctl_list(struct bl_apiserver *srv, const char *prefix)
{
	struct bl_kv_list l;
	json_t *arr;

	if (bl_store_list(srv->store, prefix, NULL, 0, 0, &l))
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_t *obj = bl_obj_from_kv(&l.items[i]);

		if (obj)
			json_array_append_new(arr, obj);
	}
	bl_kv_list_free(&l);
	return arr;
}

void bl_ctl_record_event(struct bl_apiserver *srv, json_t *obj, const char *kind, const char *type,
			 const char *reason, const char *message, const char *component)
{
	json_t *meta = json_object_get(obj, "metadata"), *ev;
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name")) ?: "";
	char path[400], gen[300], ts[32];

	if (!ns || !ns[0])
		ns = "default"; /* cluster-scoped objects' events live there, as in kube */
	bl_timestamp(time(NULL), ts);
	snprintf(gen, sizeof(gen), "%.240s.", name);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, s:s, "
		       "s:s, s:i, s:s}",
		       "apiVersion", "v1", "kind", "Event", "metadata", "generateName", gen,
		       "namespace", ns, "involvedObject", "kind", kind, "name", name, "apiVersion",
		       "v1", "type", type, "reason", reason, "message", message, "source",
		       "component", component, "firstTimestamp", ts, "lastTimestamp", ts, "count",
		       1, "reportingComponent", component);
	if (!ev)
		return;
	if (json_string_value(json_object_get(meta, "namespace")))
		json_object_set(json_object_get(ev, "involvedObject"), "namespace",
				json_object_get(meta, "namespace"));
	if (json_object_get(meta, "uid"))
		json_object_set(json_object_get(ev, "involvedObject"), "uid",
				json_object_get(meta, "uid"));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", ns);
	bl_ctl_request(srv, "POST", path, NULL, ev, NULL);
	json_decref(ev);
}
