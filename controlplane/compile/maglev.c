#include "controlplane/compile/maglev.h"

#include <arpa/inet.h>
#include <bpflet/jhash.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Seeds of the two permutation hashes; part of the contract between nodes. */
#define SEED_OFFSET 0x4d41474cu /* "MAGL" */
#define SEED_SKIP   0x45564e21u /* "EVN!" */

uint32_t bl_maglev_size(size_t n)
{
	return n > BPFLET_MAGLEV_LARGE_THRESHOLD ? BPFLET_MAGLEV_M_LARGE : BPFLET_MAGLEV_M;
}

bool bl_maglev_is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	for (uint32_t d = 2; d * d <= m; d++)
		if (m % d == 0)
			return false;
	return true;
}

/* A backend's identity as host-order words: the same on every node and architecture. */
static void ident_words(const struct bpflet_backend *b, uint32_t w[6])
{
	for (int i = 0; i < 4; i++)
		w[i] = ntohl(b->addr.addr[i]);
	w[4] = ((uint32_t)ntohs(b->port) << 16) | ((uint32_t)b->proto << 8) | b->family;
	w[5] = 0;
}

static int ident_cmp(const void *a, const void *b, void *arg)
{
	const struct bpflet_backend *be = arg;
	uint32_t x[6], y[6];

	ident_words(&be[*(const uint32_t *)a], x);
	ident_words(&be[*(const uint32_t *)b], y);
	for (int i = 0; i < 5; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

int bl_maglev_build(const struct bpflet_backend *be, size_t n, uint32_t m, uint32_t *table)
{
	uint32_t *order, *offset, *skip, *next;
	size_t filled = 0;
	int err = -ENOMEM;

	if (!n || n > m || !bl_maglev_is_prime(m))
		return -EINVAL;
	order = calloc(n, sizeof(*order));
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!order || !offset || !skip || !next)
		goto out;
	/* turns are taken in identity order, so input order does not matter */
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, n, sizeof(*order), ident_cmp, (void *)be);
	for (size_t i = 0; i < n; i++) {
		uint32_t w[6];

		ident_words(&be[order[i]], w);
		offset[i] = bl_jhash_words(w, 5, SEED_OFFSET) % m;
		skip[i] = bl_jhash_words(w, 5, SEED_SKIP) % (m - 1) + 1;
	}
	for (uint32_t s = 0; s < m; s++)
		table[s] = UINT32_MAX;
	/* m is prime and skip in [1, m-1]: every walk visits all slots, so each turn
	 * ends within m steps and the loop fills the table in m turns */
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			uint32_t c =
				(uint32_t)(((uint64_t)offset[i] + (uint64_t)next[i] * skip[i]) % m);

			while (table[c] != UINT32_MAX) {
				next[i]++;
				c = (uint32_t)(((uint64_t)offset[i] + (uint64_t)next[i] * skip[i]) %
					       m);
			}
			table[c] = order[i];
			next[i]++;
			filled++;
		}
	}
	err = 0;
out:
	free(order);
	free(offset);
	free(skip);
	free(next);
	return err;
}
