#include "agent/dataplane/src_ranges.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bpflet_srcrange_key));
}

/* Every key in the map, sorted; *out freed by the caller. */
static int read_keys(int fd, struct bpflet_srcrange_key **out, size_t *n)
{
	struct bpflet_srcrange_key *keys = NULL, k, *prev = NULL;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, prev, &k) == 0) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct bpflet_srcrange_key *nk = realloc(keys, ncap * sizeof(*nk));

			if (!nk) {
				free(keys);
				return -ENOMEM;
			}
			keys = nk;
			cap = ncap;
		}
		keys[(*n)++] = k;
		prev = &keys[*n - 1];
	}
	if (*n)
		qsort(keys, *n, sizeof(*keys), key_cmp);
	*out = keys;
	return 0;
}

int bl_src_ranges_sync(int fd, const struct bpflet_srcrange_key *want, size_t n, unsigned *written,
		       unsigned *removed)
{
	struct bpflet_srcrange_key *have;
	size_t nh, i = 0, j = 0;
	__u32 one = 1;
	int err = read_keys(fd, &have, &nh);

	*written = *removed = 0;
	if (err)
		return err;
	/* additions first: a frontend that gains the flag must find its ranges there */
	while (j < n) {
		int c = i < nh ? key_cmp(&have[i], &want[j]) : 1;

		if (c < 0) {
			i++;
		} else if (c == 0) {
			i++;
			j++;
		} else {
			if (bpf_map_update_elem(fd, &want[j], &one, BPF_ANY)) {
				err = -errno;
				goto out;
			}
			(*written)++;
			j++;
		}
	}
	for (i = 0; i < nh; i++)
		if (!bsearch(&have[i], want, n, sizeof(*want), key_cmp) &&
		    !bpf_map_delete_elem(fd, &have[i]))
			(*removed)++;
out:
	free(have);
	return err;
}
