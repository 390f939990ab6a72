/* Last good versions of the policy compiler's objects (see netpol_keep.h). */
#include "controlplane/compile/netpol_keep.h"

#include "controlplane/compile/k8s_object.h"
#include "controlplane/compile/netpol.h"

#include <stdio.h>
#include <string.h>

void bl_netpol_keep_init(struct bl_netpol_keep *k)
{
	k->good = json_object();
}

void bl_netpol_keep_free(struct bl_netpol_keep *k)
{
	json_decref(k->good);
	k->good = NULL;
}

/* "Kind ns/name", or 0 when the object has no usable identity. */
static int key_of(const json_t *o, char *buf, size_t len)
{
	const json_t *md = json_object_get(o, "metadata");
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	int w;

	if (!kind || !name)
		return 0;
	w = snprintf(buf, len, "%s %s/%s", kind, ns ? ns : "", name);
	return w > 0 && (size_t)w < len;
}

size_t bl_netpol_keep_apply(struct bl_netpol_keep *k, json_t **objs, size_t n,
			    struct bl_errlist *errs)
{
	json_t *now = json_object();
	char key[400], err[256], what[200];
	size_t out = 0;

	if (!now || !k->good) { /* no memory: compile what there is, unguarded */
		json_decref(now);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *o = objs[i], *last;
		bool named = key_of(o, key, sizeof(key));

		if (!bl_netpol_check(o, err, sizeof(err))) {
			if (named)
				json_object_set(now, key, o);
			objs[out++] = o;
			continue;
		}
		last = named ? json_object_get(k->good, key) : NULL;
		bl_errlist_add(errs, "%s: %s; %s", bl_k8s_describe(o, what, sizeof(what)), err,
			       last ? "its last good version stays in force"
				    : "left out (no earlier good version)");
		if (last) {
			json_object_set(now, key, last);
			objs[out++] = last;
		}
	}
	json_decref(k->good);
	k->good = now;
	return out;
}
