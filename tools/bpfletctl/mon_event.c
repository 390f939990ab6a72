/* bpfletctl monitor: what an event says, whether it passes the filters, how it prints. */
#include "tools/bpfletctl/mon_event.h"
#include "agent/common/maps_util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpflet/policy_abi.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *mon_hook_name(unsigned hook)
{
	switch (hook) {
	case BPFLET_HOOK_XDP_UPLINK:
		return "xdp-uplink";
	case BPFLET_HOOK_FROM_POD:
		return "from-pod";
	case BPFLET_HOOK_TO_POD:
		return "to-pod";
	default:
		return "unknown";
	}
}

static const char *const type_names[] = {
	[BPFLET_MON_FLOW] = "flow", [BPFLET_MON_DROP] = "drop", [BPFLET_MON_POLICY] = "policy"};

int mon_parse_types(const char *s, unsigned *types)
{
	char *copy = strdup(s), *save = NULL, *t;
	int err = 0;

	*types = 0;
	for (t = copy ? strtok_r(copy, ",", &save) : NULL; t && !err;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = BPFLET_MON_FLOW; i <= BPFLET_MON_POLICY && strcmp(t, type_names[i]); i++)
			;
		if (i > BPFLET_MON_POLICY)
			err = -1;
		else
			*types |= 1u << i;
	}
	free(copy);
	return copy && *types && !err ? 0 : -1;
}

struct svc_load {
	struct mon_filter *f;
	int slot_fd, be_fd, name_fd;
	int err;
};

static int push_ep(struct mon_filter *f, uint32_t addr, uint16_t port, uint8_t proto)
{
	struct mon_ep *p = realloc(f->eps, (f->n_eps + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->eps = p;
	p[f->n_eps++] = (struct mon_ep){.addr = addr, .port = port, .proto = proto};
	return 0;
}

static int load_frontend(void *arg, const void *k, const void *v)
{
	const struct bpflet_fe_key *key = k;
	const struct bpflet_fe_val *val = v;
	struct svc_load *l = arg;
	struct mon_filter *f = l->f;
	char name[BPFLET_SVC_NAME_LEN];
	uint32_t *ids;

	ctl_svc_name(l->name_fd, val->svc_id, name, sizeof(name));
	if (!ctl_name_matches(name, f->service))
		return 0;
	ids = realloc(f->svc_ids, (f->n_svc_ids + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	f->svc_ids = ids;
	ids[f->n_svc_ids++] = val->svc_id;
	if (push_ep(f, key->addr.addr[0], key->port, key->proto))
		return -ENOMEM;
	for (unsigned i = 0; i < val->count; i++) {
		struct bpflet_slot_key sk = {.svc_id = val->svc_id, .slot = i};
		struct bpflet_backend be;
		__u32 id;

		if (!bpf_map_lookup_elem(l->slot_fd, &sk, &id) &&
		    !bpf_map_lookup_elem(l->be_fd, &id, &be) &&
		    push_ep(f, be.addr.addr[0], be.port, be.proto))
			return -ENOMEM;
	}
	return 0;
}

int mon_filter_load_service(struct mon_filter *f, int fe_fd, int slot_fd, int be_fd, int name_fd)
{
	struct svc_load l = {.f = f, .slot_fd = slot_fd, .be_fd = be_fd, .name_fd = name_fd};

	f->n_svc_ids = f->n_eps = 0;
	return bl_map_walk(fe_fd, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
			   load_frontend, &l);
}

void mon_filter_free(struct mon_filter *f)
{
	free(f->svc_ids);
	free(f->eps);
	f->svc_ids = NULL;
	f->eps = NULL;
	f->n_svc_ids = f->n_eps = 0;
}

static bool is_service_ep(const struct mon_filter *f, uint32_t addr, uint16_t port, uint8_t proto)
{
	for (size_t i = 0; i < f->n_eps; i++)
		if (f->eps[i].addr == addr && f->eps[i].port == port && f->eps[i].proto == proto)
			return true;
	return false;
}

/* A flow by its svc_id; a drop or verdict by a destination (or the peer a policy
 * verdict was about) that is one of the Service's frontends or backends. */
static bool service_wanted(const struct mon_filter *f, const struct bpflet_mon_event *e)
{
	if (e->type == BPFLET_MON_FLOW) {
		for (size_t i = 0; i < f->n_svc_ids; i++)
			if (f->svc_ids[i] == e->svc_id)
				return true;
		return false;
	}
	return is_service_ep(f, e->daddr.addr[0], e->dport, e->proto) ||
	       (e->type == BPFLET_MON_POLICY &&
		is_service_ep(f, e->be_addr.addr[0], e->be_port, e->proto));
}

bool mon_event_wanted(const struct mon_filter *f, const struct bpflet_mon_event *e)
{
	bool has_be = e->type != BPFLET_MON_DROP; /* flows: backend; verdicts: peer */

	if (f->types && !(f->types & (1u << e->type)))
		return false;
	if (f->addr && e->saddr.addr[0] != f->addr && e->daddr.addr[0] != f->addr &&
	    !(has_be && e->be_addr.addr[0] == f->addr))
		return false;
	if (f->port && ntohs(e->sport) != f->port && ntohs(e->dport) != f->port &&
	    !(has_be && ntohs(e->be_port) == f->port))
		return false;
	return !f->service || service_wanted(f, e);
}

static const char *ep(const struct bpflet_addr *a, uint8_t family, uint16_t port_be, uint8_t proto,
		      char *buf, size_t len)
{
	char ip[64];

	bl_addr_format(a, family, ip, sizeof(ip));
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP)
		snprintf(buf, len, family == BPFLET_AF_INET6 ? "[%s]:%u" : "%s:%u", ip,
			 ntohs(port_be));
	else
		snprintf(buf, len, "%s", ip);
	return buf;
}

static void rule_name(int fd, uint32_t id, char *out, size_t len)
{
	struct bpflet_pol_name nm = {0};

	if (!id)
		snprintf(out, len, "default deny");
	else if (fd < 0 || bpf_map_lookup_elem(fd, &id, &nm))
		snprintf(out, len, "rule %u", id);
	else {
		nm.name[sizeof(nm.name) - 1] = '\0';
		snprintf(out, len, "%s", nm.name);
	}
}

json_t *mon_event_json(const struct mon_names *n, const struct bpflet_mon_event *e)
{
	static const char *const verdicts[] = {"deny", "audit", "allow"};
	char src[80], dst[80], be[80], name[BPFLET_SVC_NAME_LEN], when[48];
	int64_t real = (int64_t)e->ts_ns + n->mono_to_real_ns;
	time_t sec = (time_t)(real / 1000000000);
	struct tm tm;
	json_t *o;

	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06ldZ",
		 (long)(real % 1000000000 / 1000));
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:i}", "time", when, "type",
		      e->type <= BPFLET_MON_POLICY && type_names[e->type] ? type_names[e->type]
									  : "unknown",
		      "hook", mon_hook_name(e->hook), "ifindex", e->ifindex, "protocol",
		      bl_proto_name(e->proto), "src",
		      ep(&e->saddr, e->family, e->sport, e->proto, src, sizeof(src)), "dst",
		      ep(&e->daddr, e->family, e->dport, e->proto, dst, sizeof(dst)), "len",
		      e->len);
	switch (e->type) {
	case BPFLET_MON_FLOW:
		ctl_svc_name(n->svc_fd, e->svc_id, name, sizeof(name));
		json_object_set_new(o, "backend",
				    json_string(ep(&e->be_addr, e->family, e->be_port, e->proto, be,
						   sizeof(be))));
		json_object_set_new(o, "service", json_string(name));
		json_object_set_new(o, "svc_id", json_integer(e->svc_id));
		json_object_set_new(o, "backend_id", json_integer(e->backend_id));
		break;
	case BPFLET_MON_DROP:
		json_object_set_new(o, "reason", json_string(bl_counter_name(e->reason)));
		break;
	case BPFLET_MON_POLICY:
		rule_name(n->pol_fd, e->rule_id, name, sizeof(name));
		json_object_set_new(o, "verdict",
				    json_string(e->verdict <= BPFLET_POL_ALLOW
							? verdicts[e->verdict]
							: "unknown"));
		json_object_set_new(
			o, "direction",
			json_string(e->dir == BPFLET_POL_INGRESS ? "ingress" : "egress"));
		/* the other end and the port the rules were asked about (for a Service
		 * flow: the backend and its port) */
		json_object_set_new(o, "peer",
				    json_string(ep(&e->be_addr, e->family, 0, 0, be, sizeof(be))));
		json_object_set_new(o, "port", json_integer(ntohs(e->be_port)));
		json_object_set_new(o, "rule", json_string(name));
		json_object_set_new(o, "rule_id", json_integer(e->rule_id));
		break;
	}
	return o;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

void mon_event_print(FILE *out, json_t *ev)
{
	const char *type = str(ev, "type"), *time = str(ev, "time");

	/* the time of day is enough on a live line */
	fprintf(out, "%.15s %-6s %-10s %-4s %s -> %s", strlen(time) > 11 ? time + 11 : time, type,
		str(ev, "hook"), str(ev, "protocol"), str(ev, "src"), str(ev, "dst"));
	if (!strcmp(type, "flow"))
		fprintf(out, " => %s %s (backend %lld)", str(ev, "backend"), str(ev, "service"),
			json_integer_value(json_object_get(ev, "backend_id")));
	else if (!strcmp(type, "drop"))
		fprintf(out, " %s", str(ev, "reason"));
	else if (!strcmp(type, "policy"))
		fprintf(out, " %s %s, peer %s port %lld: %s", str(ev, "verdict"),
			str(ev, "direction"), str(ev, "peer"),
			json_integer_value(json_object_get(ev, "port")), str(ev, "rule"));
	fputc('\n', out);
}
