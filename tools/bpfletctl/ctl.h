/* bpfletctl's shared pieces: options, pinned-map access, output helpers. */
#ifndef BPFLETCTL_H
#define BPFLETCTL_H

#include "agent/common/maps_util.h"
#include "agent/common/netaddr.h"

#include <bpflet/abi.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl {
	const char *instance;
	bool json;
};

/* Opens a pinned map of the instance read-only; prints what to do when it's missing. */
int ctl_map_open(const struct ctl *c, const char *name);
/* The same, writable (flush). */
int ctl_map_open_rw(const struct ctl *c, const char *name);
/* Closes the valid fds of an array. */
void ctl_close_all(const int *fds, size_t n);

/* "10.0.0.1:80" from ABI address + network-order port */
const char *ctl_endpoint(const struct bpflet_addr *a, unsigned family, unsigned port_be, char *buf,
			 size_t len);
/* "default/web" matches "default/web" and "default/web:http". */
bool ctl_name_matches(const char *have, const char *want);
/* svc_id's "namespace/name:port" from bl_svcname_v1 ("" when unknown). */
void ctl_svc_name(int name_fd, uint32_t svc_id, char *out, size_t len);
/* Whether a Service of that name is programmed; says what to do when not. */
bool ctl_service_known(const struct ctl *c, int name_fd, const char *want);
/* A per-CPU counter slot summed over CPUs; 0 or -errno. */
int ctl_percpu_sum(int fd, __u32 key, struct bpflet_counter_val *sum);
/* Option values; print what is wrong and return -1 on bad input. */
int ctl_parse_port(const char *s, uint16_t *port);
int ctl_parse_addr(const char *s, uint32_t *addr_be);
int ctl_parse_proto(const char *s, uint8_t *proto);
/* Sorts a JSON array in place; ctl_by_id orders objects by their "id". */
void ctl_sort(json_t *arr, int (*cmp)(const void *, const void *));
int ctl_by_id(const void *a, const void *b);
/* Prints a JSON value (pretty) to stdout and frees it. */
void ctl_print_json(json_t *v);

int cmd_service(const struct ctl *c, int argc, char **argv);
int cmd_conntrack(const struct ctl *c, int argc, char **argv);
int cmd_counters(const struct ctl *c, int argc, char **argv);
int cmd_backend(const struct ctl *c, int argc, char **argv);
int cmd_maps(const struct ctl *c, int argc, char **argv);
int cmd_maglev(const struct ctl *c, int argc, char **argv);
int cmd_nat(const struct ctl *c, int argc, char **argv);
int cmd_policy(const struct ctl *c, int argc, char **argv);
int cmd_monitor(const struct ctl *c, int argc, char **argv);
/* conntrack flush [--service SVC]; argv[0] is "flush" */
int ct_flush(const struct ctl *c, int argc, char **argv);

#endif
