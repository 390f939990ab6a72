/*
 * Conntrack maps of layout 1 (bl_ct_*_v1: values without the TCP window record) met by
 * a newer agent. Their entries are copied into the v2 maps with a zero window record,
 * which the next packet of each direction fills in the way Linux picks up a connection
 * in mid-stream; established connections carry on across the upgrade.
 *
 * Two passes: one right after the new programs are loaded (before they are attached,
 * so they find every flow from their first packet), one after every program is
 * switched (flows the old programs opened in between). The second removes the old pins.
 */
#ifndef BPFLET_CT_MIGRATE_H
#define BPFLET_CT_MIGRATE_H

#include <stdbool.h>

/* Copies the instance's v1 conntrack entries into the maps behind tcp_fd/any_fd that
 * are not there yet; with `last`, unpins the v1 maps afterwards. Returns the number of
 * entries copied (0 when there were no v1 maps), or -errno. */
long bl_ct_migrate(const char *instance, int tcp_fd, int any_fd, bool last);

#endif
