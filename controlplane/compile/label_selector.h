/* metav1.LabelSelector (matchLabels, matchExpressions) checked and matched on JSON. */
#ifndef BPFLET_LABEL_SELECTOR_H
#define BPFLET_LABEL_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* 0, or -EINVAL with "path.matchExpressions[0].operator: ..." in err. */
int bl_selector_validate(const json_t *sel, const char *path, char *err, size_t errlen);
/* A validated selector against labels (NULL labels = none). {} matches everything. */
bool bl_selector_matches(const json_t *sel, const json_t *labels);

#endif
