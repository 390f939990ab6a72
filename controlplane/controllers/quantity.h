/* Kubernetes resource quantities ("250m", "1.5Gi", "2e3", "110") as integers. */
#ifndef BPFLET_CTL_QUANTITY_H
#define BPFLET_CTL_QUANTITY_H

#include <jansson.h>
#include <stdint.h>

/* v (a string, or a JSON number) in thousandths of its unit, rounded up as kube does:
 * "250m" → 250, "1Ki" → 1024000. 0, or -1 when v is not a non-negative quantity that
 * fits. */
int bl_quantity_milli(json_t *v, int64_t *out);

#endif
