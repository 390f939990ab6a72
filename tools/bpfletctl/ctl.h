/* bpfletctl's shared pieces: options, pinned-map access, output helpers. */
#ifndef BPFLETCTL_H
#define BPFLETCTL_H

#include "agent/common/maps_util.h"
#include "agent/common/netaddr.h"

#include <bpflet/abi.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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
/* conntrack flush [--service SVC]; argv[0] is "flush" */
int ct_flush(const struct ctl *c, int argc, char **argv);

#endif
