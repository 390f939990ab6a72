#include "controlplane/controllers/ctl_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *bl_ctl_get(json_t *obj, const char *path)
{
	char seg[128];

	while (obj && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		obj = json_is_object(obj) ? json_object_get(obj, seg) : NULL;
		path += n + (path[n] == '.');
	}
	return obj;
}

json_t *bl_ctl_child(json_t *obj, const char *key, bool array)
{
	json_t *c = json_object_get(obj, key);

	if (array ? !json_is_array(c) : !json_is_object(c)) {
		c = array ? json_array() : json_object();
		json_object_set_new(obj, key, c);
	}
	return c;
}

const char *bl_ctl_str(json_t *obj, const char *path)
{
	return json_string_value(bl_ctl_get(obj, path));
}

double bl_ctl_time(const char *s)
{
	struct tm tm = {0};
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	double t, frac = 0;
	int hh, mm;

	if (!p)
		return -1;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	t = (double)timegm(&tm) + frac;
	if (*p == 'Z' && !p[1])
		return t;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p) == 6)
		return t - (*p == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
	return -1;
}

json_t *bl_ctl_condition(json_t *obj, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(bl_ctl_get(obj, "status.conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));

		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

static bool set_str(json_t *c, const char *key, const char *v)
{
	const char *old = json_string_value(json_object_get(c, key));

	if (!v) {
		if (!json_object_get(c, key))
			return false;
		json_object_del(c, key);
		return true;
	}
	if (old && !strcmp(old, v))
		return false;
	json_object_set_new(c, key, json_string(v));
	return true;
}

bool bl_ctl_set_condition(json_t *obj, const char *type, const char *status, const char *reason,
			  const char *message, const char *now_ts)
{
	json_t *c = bl_ctl_condition(obj, type);
	bool changed = false;

	if (!c) {
		c = json_pack("{s:s}", "type", type);
		json_array_append_new(
			bl_ctl_child(bl_ctl_child(obj, "status", false), "conditions", true), c);
		changed = true;
	}
	if (set_str(c, "status", status)) {
		json_object_set_new(c, "lastTransitionTime", json_string(now_ts));
		changed = true;
	}
	changed |= set_str(c, "reason", reason);
	changed |= set_str(c, "message", message);
	return changed;
}
