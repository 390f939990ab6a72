#include "controlplane/apiserver/kinds.h"
#include "controlplane/apiserver/objmeta.h"

#include <string.h>

static json_t *child(json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(obj, key, c);
	}
	return c;
}

static void set_default(json_t *obj, const char *key, json_t *v)
{
	if (!json_object_get(obj, key))
		json_object_set(obj, key, v);
	json_decref(v);
}

static void namespace_defaults(json_t *ns)
{
	json_t *labels = child(bl_meta(ns), "labels");
	const char *name = bl_meta_str(ns, "name");

	/* kube sets this label on every namespace so selectors can name them */
	json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name ? name : ""));
	set_default(child(ns, "spec"), "finalizers", json_pack("[s]", "kubernetes"));
	set_default(child(ns, "status"), "phase", json_string("Active"));
}

static void container_defaults(json_t *containers)
{
	size_t i;
	json_t *c;

	json_array_foreach(containers, i, c)
	{
		const char *image = json_string_value(json_object_get(c, "image"));
		bool latest = image && (!strchr(image, ':') || strstr(image, ":latest"));

		set_default(c, "imagePullPolicy", json_string(latest ? "Always" : "IfNotPresent"));
		set_default(c, "terminationMessagePath", json_string("/dev/termination-log"));
		set_default(c, "terminationMessagePolicy", json_string("File"));
		set_default(c, "resources", json_object());
	}
}

static void pod_defaults(json_t *pod, bool create)
{
	json_t *spec = child(pod, "spec");

	set_default(spec, "restartPolicy", json_string("Always"));
	set_default(spec, "dnsPolicy", json_string("ClusterFirst"));
	set_default(spec, "schedulerName", json_string("default-scheduler"));
	set_default(spec, "terminationGracePeriodSeconds", json_integer(30));
	set_default(spec, "securityContext", json_object());
	set_default(spec, "enableServiceLinks", json_true());
	set_default(spec, "priority", json_integer(0));
	container_defaults(json_object_get(spec, "containers"));
	container_defaults(json_object_get(spec, "initContainers"));
	if (create) {
		json_t *status = child(pod, "status");

		set_default(status, "phase", json_string("Pending"));
		set_default(status, "qosClass", json_string("BestEffort"));
	}
}

static void defaults(const struct bl_resource *r, json_t *obj, bool create)
{
	if (!strcmp(r->name, "namespaces"))
		namespace_defaults(obj);
	else if (!strcmp(r->name, "pods"))
		pod_defaults(obj, create);
	else if (!strcmp(r->name, "secrets"))
		set_default(obj, "type", json_string("Opaque"));
}

int bl_kind_prepare_create(struct hx *x, const struct bl_resource *r, json_t *obj)
{
	defaults(r, obj, true);
	if (!strcmp(r->name, "services"))
		return bl_svc_prepare_create(x, r, obj);
	return 0;
}

void bl_kind_create_failed(struct bl_apiserver *srv, const struct bl_resource *r, json_t *obj)
{
	if (!strcmp(r->name, "services"))
		bl_svc_release_diff(srv, NULL, obj);
}

int bl_kind_prepare_update(struct hx *x, const struct bl_resource *r, json_t *old, json_t *obj)
{
	defaults(r, obj, false);
	if (!strcmp(r->name, "services"))
		return bl_svc_prepare_update(x, r, old, obj);
	return 0;
}

void bl_kind_update_done(struct bl_apiserver *srv, const struct bl_resource *r, json_t *old,
			 json_t *obj, bool committed)
{
	if (strcmp(r->name, "services"))
		return;
	if (committed)
		bl_svc_release_diff(srv, obj, old);
	else
		bl_svc_release_diff(srv, old, obj);
}

void bl_kind_deleted(struct bl_apiserver *srv, const struct bl_resource *r, json_t *old)
{
	if (!strcmp(r->name, "services"))
		bl_svc_release_diff(srv, NULL, old);
}

void bl_kind_restore(struct bl_apiserver *srv, const struct bl_resource *r, json_t *obj)
{
	if (!strcmp(r->name, "services"))
		bl_svc_restore(srv, obj);
}
