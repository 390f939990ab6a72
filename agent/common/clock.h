/* The clocks the agent and the control plane read: monotonic for durations, the wall
 * clock as the Kubernetes API writes times. */
#ifndef BPFLET_CLOCK_H
#define BPFLET_CLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* CLOCK_MONOTONIC in seconds. */
double bl_mono_now(void);

/* Now in RFC 3339 UTC: "2006-01-02T15:04:05Z", or with micro "…05.000000Z" (a
 * metav1.MicroTime, as Lease.spec.renewTime and acquireTime want). */
void bl_now_rfc3339(char *buf, size_t len, bool micro);

#endif
