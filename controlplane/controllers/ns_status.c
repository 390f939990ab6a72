#include "controlplane/controllers/ns_status.h"
#include "controlplane/controllers/ctl_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* prefix + "KEY<between>N<after>, ..." with the keys sorted; NULL when counts is empty */
static char *listing(const char *prefix, json_t *counts, const char *between, const char *after)
{
	size_t n = json_object_size(counts), i = 0, len = strlen(prefix) + 1;
	char **parts, *out;
	const char *k;
	json_t *v;

	if (!n)
		return NULL;
	parts = calloc(n, sizeof(*parts));
	if (!parts)
		return NULL;
	json_object_foreach(counts, k, v)
	{
		if (asprintf(&parts[i], "%s%s%lld%s", k, between, (long long)json_integer_value(v),
			     after) < 0)
			parts[i] = NULL;
		len += (parts[i] ? strlen(parts[i]) : 0) + 2;
		i++;
	}
	qsort(parts, n, sizeof(*parts), by_text);
	out = malloc(len);
	if (out) {
		size_t off = (size_t)snprintf(out, len, "%s", prefix);

		for (i = 0; i < n; i++)
			off += (size_t)snprintf(out + off, len - off, "%s%s", i ? ", " : "",
						parts[i] ? parts[i] : "");
	}
	for (i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
	return out;
}

bool bl_ns_set_conditions(json_t *ns, json_t *resources, json_t *finalizers, const char *now_ts)
{
	char *left = listing("Some resources are remaining: ", resources, " has ",
			     " resource instances");
	char *held = listing("Some content in the namespace has finalizers remaining: ", finalizers,
			     " in ", " resource instances");
	bool changed = false;

	/* kube's five, in its order and words; discovery and parsing cannot fail here */
	changed |= bl_ctl_set_condition(ns, "NamespaceDeletionDiscoveryFailure", "False",
					"ResourcesDiscovered",
					"All resources successfully discovered", now_ts);
	changed |= bl_ctl_set_condition(ns, "NamespaceDeletionGroupVersionParsingFailure", "False",
					"ParsedGroupVersions",
					"All legacy kube types successfully parsed", now_ts);
	changed |= bl_ctl_set_condition(
		ns, "NamespaceDeletionContentFailure", "False", "ContentDeleted",
		"All content successfully deleted, may be waiting on finalization", now_ts);
	changed |= bl_ctl_set_condition(ns, "NamespaceContentRemaining", left ? "True" : "False",
					left ? "SomeResourcesRemain" : "ContentRemoved",
					left ? left : "All content successfully removed", now_ts);
	changed |= bl_ctl_set_condition(ns, "NamespaceFinalizersRemaining", held ? "True" : "False",
					held ? "SomeFinalizersRemain" : "ContentHasNoFinalizers",
					held ? held : "All content-preserving finalizers finished",
					now_ts);
	free(left);
	free(held);
	return changed;
}
