/* The wall clock as the Kubernetes API writes times. */
#ifndef BPFLET_TIMEFMT_H
#define BPFLET_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>

/* Now in RFC 3339 UTC: "2006-01-02T15:04:05Z", or with micro "…05.000000Z" (a
 * metav1.MicroTime, as Lease.spec.renewTime and acquireTime want). */
void bl_now_rfc3339(char *buf, size_t len, bool micro);

#endif
