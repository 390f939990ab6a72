#include "controlplane/compile/svc_records.h"

#include "agent/common/netaddr.h"
#include "controlplane/compile/k8s_json.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_svc_table_free(struct bl_svc_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->fe[i].backends);
	free(t->fe);
	t->fe = NULL;
	t->n = 0;
	free(t->src);
	t->src = NULL;
	t->n_src = 0;
	free(t->hc);
	t->hc = NULL;
	t->n_hc = 0;
}

#define CMP(x, y)                                                                                  \
	do {                                                                                       \
		if ((x) != (y))                                                                    \
			return (x) < (y) ? -1 : 1;                                                 \
	} while (0)

/* Numeric address order (host order per word), so sorted output reads naturally. */
static int addr_cmp(const struct bpflet_addr *a, const struct bpflet_addr *b)
{
	for (int i = 0; i < 4; i++)
		CMP(ntohl(a->addr[i]), ntohl(b->addr[i]));
	return 0;
}

int bl_svc_fe_key_cmp(const struct bpflet_fe_key *a, const struct bpflet_fe_key *b)
{
	int c;

	CMP(a->family, b->family);
	c = addr_cmp(&a->addr, &b->addr);
	if (c)
		return c;
	CMP(ntohs(a->port), ntohs(b->port));
	CMP(a->proto, b->proto);
	CMP(a->scope, b->scope);
	return 0;
}

int bl_svc_backend_cmp(const struct bl_svc_backend *a, const struct bl_svc_backend *b)
{
	int c;

	CMP(a->family, b->family);
	c = addr_cmp(&a->addr, &b->addr);
	if (c)
		return c;
	CMP(ntohs(a->port), ntohs(b->port));
	CMP(a->proto, b->proto);
	return 0;
}

static struct {
	char **names; /* names[id - 1] */
	size_t n;
} zones;

uint16_t bl_zone_id(const char *name)
{
	char **grown, *copy;

	if (!name || !*name)
		return 0;
	/* clusters have a handful of zones: a scan beats a hash */
	for (size_t i = 0; i < zones.n; i++)
		if (!strcmp(zones.names[i], name))
			return (uint16_t)(i + 1);
	if (zones.n == UINT16_MAX)
		return 0;
	grown = realloc(zones.names, (zones.n + 1) * sizeof(*grown));
	copy = strdup(name);
	if (grown)
		zones.names = grown;
	if (!grown || !copy) {
		free(copy);
		return 0;
	}
	zones.names[zones.n++] = copy;
	return (uint16_t)zones.n;
}

const char *bl_zone_name(uint16_t id)
{
	return id && id <= zones.n ? zones.names[id - 1] : "";
}

bool bl_svc_backend_equal(const struct bl_svc_backend *a, const struct bl_svc_backend *b)
{
	return !bl_svc_backend_cmp(a, b) && a->terminating == b->terminating &&
	       a->local == b->local && a->zone == b->zone;
}

const struct bl_svc_frontend *bl_svc_table_find(const struct bl_svc_table *t,
						const struct bpflet_fe_key *k)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = bl_svc_fe_key_cmp(&t->fe[mid].key, k);

		if (!c)
			return &t->fe[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void bl_svc_backend_to_abi(const struct bl_svc_backend *b, uint16_t zone_id,
			   struct bpflet_backend *out)
{
	memset(out, 0, sizeof(*out));
	out->addr = b->addr;
	out->port = b->port;
	out->proto = b->proto;
	out->family = b->family;
	out->state = b->terminating ? BPFLET_BE_TERMINATING : BPFLET_BE_ACTIVE;
	out->flags = b->local ? BPFLET_BE_F_LOCAL : 0;
	out->zone = zone_id;
}

const char *bl_svc_fe_key_format(const struct bpflet_fe_key *k, char *buf, size_t len)
{
	char ip[48];

	bl_addr_format(&k->addr, k->family, ip, sizeof(ip));
	snprintf(buf, len, k->family == BPFLET_AF_INET6 ? "[%s]:%u/%s%s" : "%s:%u/%s%s", ip,
		 ntohs(k->port), bl_proto_name(k->proto),
		 k->scope == BPFLET_SCOPE_EXTERNAL ? " external" : "");
	return buf;
}
