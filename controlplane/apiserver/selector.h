/* Label selectors (equality and set-based: a=b, a==b, a!=b, a in (x,y), a notin (x), a,
 * !a, a>1, a<1) and field selectors (a.b=c, a.b==c, a.b!=c), as list and watch take them. */
#ifndef BPFLET_CP_SELECTOR_H
#define BPFLET_CP_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bl_selector;

/* NULL or "" parse to a selector matching everything. Returns 0, or -1 with err set. */
int bl_label_selector_parse(const char *text, struct bl_selector **out, char *err, size_t len);
int bl_field_selector_parse(const char *text, struct bl_selector **out, char *err, size_t len);
void bl_selector_free(struct bl_selector *s);

/* labels: the metadata.labels object (NULL: no labels). */
bool bl_label_selector_match(const struct bl_selector *s, json_t *labels);
/* obj: the whole object; each key is a dotted path into it. */
bool bl_field_selector_match(const struct bl_selector *s, json_t *obj);

/* The field keys, for checking them against what a resource supports. */
size_t bl_selector_count(const struct bl_selector *s);
const char *bl_selector_key(const struct bl_selector *s, size_t i);

#endif
