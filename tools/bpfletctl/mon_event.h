/* bpfletctl monitor's events: filters, names from the maps, one line or one JSON
 * object each. */
#ifndef BPFLETCTL_MON_EVENT_H
#define BPFLETCTL_MON_EVENT_H

#include "tools/bpfletctl/ctl.h"

#include <bpflet/monitor_abi.h>
#include <stdbool.h>
#include <stdint.h>

/* One endpoint of a Service: a frontend or a backend, {addr, port, proto}. */
struct mon_ep {
	uint32_t addr; /* network order */
	uint16_t port; /* network order */
	uint8_t proto;
};

struct mon_filter {
	unsigned types; /* bit (1 << enum bpflet_mon_type); 0: all */
	uint32_t addr;	/* network order; 0: any */
	uint16_t port;	/* host order; 0: any */
	const char *service;
	/* the Service's svc ids, frontends and backends (refreshed while running) */
	uint32_t *svc_ids;
	size_t n_svc_ids;
	struct mon_ep *eps;
	size_t n_eps;
};

struct mon_names {
	int svc_fd;		 /* bl_svcname_v1 */
	int pol_fd;		 /* bl_polname_v1, -1 without NetworkPolicy maps */
	int64_t mono_to_real_ns; /* add to a bpf_ktime_get_ns() stamp for wall time */
};

/* --type flow,drop,policy → bits; -1 on a bad name. */
int mon_parse_types(const char *s, unsigned *types);
/* (Re)reads the Service's ids, frontends and backends from the maps; 0 or -errno. */
int mon_filter_load_service(struct mon_filter *f, int fe_fd, int slot_fd, int be_fd, int name_fd);
void mon_filter_free(struct mon_filter *f);
bool mon_event_wanted(const struct mon_filter *f, const struct bpflet_mon_event *e);

/* The event as a JSON object (new reference). */
json_t *mon_event_json(const struct mon_names *n, const struct bpflet_mon_event *e);
/* The event as one line, from its JSON form. */
void mon_event_print(FILE *out, json_t *ev);

const char *mon_hook_name(unsigned hook);

#endif
