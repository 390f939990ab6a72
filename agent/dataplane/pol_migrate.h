/*
 * NetworkPolicy maps of the previous layout (bl_ipc_v1, bl_pol_v1, bl_polep_v1: LPM
 * tries and flag-only endpoints) copied into the current ones, so an upgraded agent's
 * programs enforce the same policy from their first packet, before the agent has
 * compiled anything. Run once the new programs are loaded and before they are
 * attached; the old pins are removed when every program is switched (the old programs
 * hold the old maps until then).
 */
#ifndef BPFLET_POL_MIGRATE_H
#define BPFLET_POL_MIGRATE_H

#include "agent/dataplane/pol_sync.h"

#include <stdbool.h>

/* Copies the instance's layout-1 policy maps into fds (with `last`: removes their
 * pins instead). Returns the number of entries written (0: no old maps), or -errno. */
long bl_pol_migrate(const char *instance, const struct bl_pol_fds *fds, bool last);

#endif
