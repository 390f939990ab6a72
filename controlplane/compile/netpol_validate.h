/* Field checks of NetworkPolicy and Pod objects before the policy compiler reads them,
 * so the compiler itself can read fields without re-checking. */
#ifndef BPFLET_NETPOL_VALIDATE_H
#define BPFLET_NETPOL_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

/* 0 or -EINVAL with "spec.ingress[0].from[1].ipBlock.cidr: ..." in err. */
int bl_netpol_validate(const json_t *np, char *err, size_t errlen);
/* spec.containers[].ports[] and status.podIP. */
int bl_pod_validate(const json_t *pod, char *err, size_t errlen);

#endif
