/* Server-side apply's field ownership, in kube's FieldsV1 form: a tree whose keys are
 * "f:<field>", "k:<merge key as JSON>" (an element of a keyed list) and "v:<value>" (an
 * element of a set), leaves {}. Lists without a merge key are owned as a whole. */
#ifndef BPFLET_CP_MANAGED_FIELDS_H
#define BPFLET_CP_MANAGED_FIELDS_H

#include <jansson.h>
#include <stddef.h>

/* The fields an applied configuration sets (apiVersion, kind, metadata.name and
 * metadata.namespace are identity, not owned). */
json_t *bl_mf_fields_of(json_t *applied);

/* Fields of fields that another manager in managed (metadata.managedFields) owns and
 * whose applied value differs from live: their number; msg lists them like kube
 * ("conflict with \"mgr\": .data.k"). */
int bl_mf_conflicts(json_t *managed, const char *manager, json_t *fields, json_t *applied,
		    json_t *live, char *msg, size_t len);

/* Removes from live what prev owned, fields no longer owns and no other manager in
 * managed owns: a field dropped from the applied configuration goes. */
void bl_mf_remove_dropped(json_t *live, json_t *prev, json_t *fields, json_t *managed,
			  const char *manager);

/* managed with manager's Apply entry set to fields (a new array). */
json_t *bl_mf_set_entry(json_t *managed, const char *manager, const char *api_version,
			json_t *fields);
/* manager's Apply entry's fieldsV1 in managed, or NULL. */
json_t *bl_mf_entry_fields(json_t *managed, const char *manager);

#endif
