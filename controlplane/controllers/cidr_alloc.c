#include "controlplane/controllers/cidr_alloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_cidr_alloc_init(struct bl_cidr_alloc *a, const struct bl_cidr4 *cluster, int mask)
{
	memset(a, 0, sizeof(*a));
	if (mask < cluster->plen || mask > 30 || mask - cluster->plen > 24)
		return -1;
	a->cluster = *cluster;
	a->mask = mask;
	a->n = (size_t)1 << (mask - cluster->plen);
	a->used = calloc(a->n, 1);
	return a->used ? 0 : -1;
}

void bl_cidr_alloc_free(struct bl_cidr_alloc *a)
{
	free(a->used);
	a->used = NULL;
	a->n = a->nused = 0;
}

static void format_block(const struct bl_cidr_alloc *a, size_t i, char *buf, size_t len)
{
	struct in_addr in = {htonl(a->cluster.net + ((uint32_t)i << (32 - a->mask)))};
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &in, ip, sizeof(ip));
	snprintf(buf, len, "%s/%d", ip, a->mask);
}

/* The block index of cidr, or a negative errno. */
static long block_of(const struct bl_cidr_alloc *a, const char *cidr)
{
	struct bl_cidr4 c;
	char canon[32];

	if (!cidr || bl_cidr4_parse(cidr, &c))
		return -EINVAL;
	if (c.plen != a->mask || !bl_cidr4_contains(&a->cluster, c.net))
		return -ERANGE;
	/* "10.244.1.5/24" is not a block (bl_cidr4_parse masks it) */
	format_block(a, (c.net - a->cluster.net) >> (32 - a->mask), canon, sizeof(canon));
	if (strcmp(canon, cidr))
		return -ERANGE;
	return (long)((c.net - a->cluster.net) >> (32 - a->mask));
}

int bl_cidr_alloc_next(struct bl_cidr_alloc *a, char *buf, size_t len)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->used[i])
			continue;
		a->used[i] = 1;
		a->nused++;
		format_block(a, i, buf, len);
		return 0;
	}
	return -1;
}

int bl_cidr_alloc_adopt(struct bl_cidr_alloc *a, const char *cidr)
{
	long i = block_of(a, cidr);

	if (i < 0)
		return (int)i;
	if (a->used[i])
		return -EEXIST;
	a->used[i] = 1;
	a->nused++;
	return 0;
}

int bl_cidr_alloc_release(struct bl_cidr_alloc *a, const char *cidr)
{
	long i = block_of(a, cidr);

	if (i < 0)
		return (int)i;
	if (!a->used[i])
		return -ENOENT;
	a->used[i] = 0;
	a->nused--;
	return 0;
}
