#include "controlplane/compile/label_selector.h"

#include "controlplane/compile/k8s_json.h"

#include <errno.h>
#include <string.h>

static int validate_expr(const json_t *ex, const char *path, char *err, size_t errlen)
{
	const char *op = json_string_value(json_object_get(ex, "operator"));
	const json_t *vals = json_object_get(ex, "values");
	const char *key = json_string_value(json_object_get(ex, "key"));
	char p[BL_PATH_LEN];
	bool set_op;
	size_t i;
	json_t *v;

	if (!json_is_object(ex))
		return bl_kj_fail(err, errlen, path, "must be an object");
	if (!key || !*key)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "key"), "required");
	if (!op)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "operator"), "required");
	if (strcmp(op, "In") && strcmp(op, "NotIn") && strcmp(op, "Exists") &&
	    strcmp(op, "DoesNotExist"))
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "operator"),
				  "\"%.32s\" is not In, NotIn, Exists or DoesNotExist", op);
	set_op = !strcmp(op, "In") || !strcmp(op, "NotIn");
	if (vals && !json_is_null(vals) && !json_is_array(vals))
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "values"), "must be a list");
	if (set_op && json_array_size(vals) == 0)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "values"),
				  "must be non-empty for operator %s", op);
	if (!set_op && json_array_size(vals) != 0)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "values"),
				  "must be empty for operator %s", op);
	json_array_foreach(vals, i, v)
	{
		if (!json_is_string(v)) {
			char q[BL_PATH_LEN];

			return bl_kj_fail(err, errlen,
					  bl_kj_idx(q, bl_kj_key(p, path, "values"), i),
					  "must be a string");
		}
	}
	return 0;
}

int bl_selector_validate(const json_t *sel, const char *path, char *err, size_t errlen)
{
	const json_t *ml, *me, *v;
	char p[BL_PATH_LEN], q[BL_PATH_LEN];
	const char *key;
	size_t i;
	int e;

	if (!json_is_object(sel))
		return bl_kj_fail(err, errlen, path, "must be an object");
	e = bl_kj_object(sel, "matchLabels", path, &ml, err, errlen);
	if (!e)
		e = bl_kj_array(sel, "matchExpressions", path, &me, err, errlen);
	if (e)
		return e;
	json_object_foreach((json_t *)ml, key, v)
	{
		if (!json_is_string(v))
			return bl_kj_fail(err, errlen, bl_kj_key(p, path, "matchLabels"),
					  "value of \"%.63s\" must be a string", key);
	}
	bl_kj_key(p, path, "matchExpressions");
	json_array_foreach(me, i, v)
	{
		e = validate_expr(v, bl_kj_idx(q, p, i), err, errlen);
		if (e)
			return e;
	}
	return 0;
}

static bool in_values(const json_t *vals, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(vals, i, v)
	{
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

bool bl_selector_matches(const json_t *sel, const json_t *labels)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(json_object_get(sel, "matchLabels"), key, v)
	{
		const char *have = json_string_value(json_object_get(labels, key));

		if (!have || strcmp(have, json_string_value(v)))
			return false;
	}
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, v)
	{
		const char *op = json_string_value(json_object_get(v, "operator"));
		const char *have = json_string_value(
			json_object_get(labels, json_string_value(json_object_get(v, "key"))));
		const json_t *vals = json_object_get(v, "values");

		if (!strcmp(op, "In") && !(have && in_values(vals, have)))
			return false;
		if (!strcmp(op, "NotIn") && have && in_values(vals, have))
			return false;
		if (!strcmp(op, "Exists") && !have)
			return false;
		if (!strcmp(op, "DoesNotExist") && have)
			return false;
	}
	return true;
}
