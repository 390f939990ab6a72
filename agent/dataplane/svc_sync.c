#include "agent/dataplane/svc_sync.h"

#include "agent/dataplane/id_table.h"
#include "controlplane/compile/maglev.h"

#include <bpflet/monitor_abi.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* A backend as the maps hold it; found by identity or by id. */
struct be_entry {
	struct bpflet_backend val;
	uint32_t id;
	unsigned refs;		 /* slot entries (published or not) that point here */
	UT_hash_handle hh_ident; /* key: identity bytes (addr, port, proto, family) */
};

/* A frontend as the maps hold it. slots[] mirrors every slot entry that exists in
 * the map, including ones past val.count (written ahead of a count increase or
 * left behind by a crash). */
struct fe_entry {
	struct bpflet_fe_key key;
	struct bpflet_fe_val val;
	char name[BPFLET_SVC_NAME_LEN];
	uint32_t *slots;
	size_t n_slots, cap_slots;
	bool published; /* the frontend entry itself exists in the map */
	bool seen;
	/* Maglev table: blocks owned (0 = none) and a mirror of its m entries (NULL
	 * when unknown, e.g. adopted: the next apply rewrites every entry) */
	uint32_t mg_block, mg_nblocks, mg_m;
	uint32_t *mg;
	/* blocks the published frontend may still point at, released after publishing */
	uint32_t mg_stale_block, mg_stale_nblocks;
	UT_hash_handle hh;
	UT_hash_handle hh_svc;
};

struct bl_svc_sync {
	struct fe_entry *fes;	     /* by key */
	struct fe_entry *fes_by_svc; /* by val.svc_id */
	struct be_entry *bes_ident;
	struct bl_id_table bes_id; /* id → be_entry */
	uint32_t next_svc_id, next_be_id;
	uint8_t *mg_used; /* per Maglev block: owned by a frontend */
	uint32_t mg_blocks;
	/* slots adopted before their frontend; resolved in adopt_done */
	struct {
		struct bpflet_slot_key k;
		uint32_t be;
	} * pending;
	size_t n_pending, cap_pending;
	/* backends that lost their last slot (or never got one): what a delta apply
	 * sweeps instead of every backend */
	uint32_t *unref;
	size_t n_unref, cap_unref;
};

#define IDENT_LEN offsetof(struct bpflet_backend, state)

struct bl_svc_sync *bl_svc_sync_new(void)
{
	struct bl_svc_sync *s = calloc(1, sizeof(*s));

	if (s) {
		s->next_svc_id = 1;
		s->next_be_id = 1;
		if (bl_svc_sync_set_maglev_blocks(s, BPFLET_MAGLEV_BLOCKS)) {
			free(s);
			return NULL;
		}
	}
	return s;
}

int bl_svc_sync_set_maglev_blocks(struct bl_svc_sync *s, uint32_t blocks)
{
	uint8_t *u = calloc(blocks ? blocks : 1, 1);

	if (!u)
		return -ENOMEM;
	free(s->mg_used);
	s->mg_used = u;
	s->mg_blocks = blocks;
	return 0;
}

/* First run of k free blocks; -ENOSPC when the table space is full. */
static int mg_alloc(struct bl_svc_sync *s, uint32_t k, uint32_t *first)
{
	for (uint32_t b = 0; b + k <= s->mg_blocks; b++) {
		uint32_t j = 0;

		while (j < k && !s->mg_used[b + j])
			j++;
		if (j == k) {
			memset(s->mg_used + b, 1, k);
			*first = b;
			return 0;
		}
		b += j; /* skip past the used block */
	}
	return -ENOSPC;
}

static void mg_release(struct bl_svc_sync *s, uint32_t first, uint32_t k)
{
	if (k && first + k <= s->mg_blocks)
		memset(s->mg_used + first, 0, k);
}

static void fe_free(struct bl_svc_sync *s, struct fe_entry *fe)
{
	HASH_DEL(s->fes, fe);
	HASH_DELETE(hh_svc, s->fes_by_svc, fe);
	mg_release(s, fe->mg_block, fe->mg_nblocks);
	mg_release(s, fe->mg_stale_block, fe->mg_stale_nblocks);
	free(fe->mg);
	free(fe->slots);
	free(fe);
}

static void be_free(struct bl_svc_sync *s, struct be_entry *be)
{
	HASH_DELETE(hh_ident, s->bes_ident, be);
	bl_id_del(&s->bes_id, be->id);
	free(be);
}

void bl_svc_sync_free(struct bl_svc_sync *s)
{
	struct fe_entry *fe, *ftmp;
	struct be_entry *be, *btmp;

	if (!s)
		return;
	HASH_ITER(hh, s->fes, fe, ftmp)
	fe_free(s, fe);
	HASH_ITER(hh_ident, s->bes_ident, be, btmp)
	be_free(s, be);
	bl_id_table_free(&s->bes_id);
	free(s->pending);
	free(s->unref);
	free(s->mg_used);
	free(s);
}

static struct fe_entry *fe_find(const struct bl_svc_sync *s, const struct bpflet_fe_key *k)
{
	struct fe_entry *fe;

	HASH_FIND(hh, s->fes, k, sizeof(*k), fe);
	return fe;
}

static struct fe_entry *fe_find_svc(const struct bl_svc_sync *s, uint32_t svc_id)
{
	struct fe_entry *fe;

	HASH_FIND(hh_svc, s->fes_by_svc, &svc_id, sizeof(svc_id), fe);
	return fe;
}

static struct be_entry *be_find_ident(const struct bl_svc_sync *s, const struct bpflet_backend *b)
{
	struct be_entry *be;

	HASH_FIND(hh_ident, s->bes_ident, b, IDENT_LEN, be);
	return be;
}

static struct be_entry *be_find_id(const struct bl_svc_sync *s, uint32_t id)
{
	return bl_id_find(&s->bes_id, id);
}

/* A backend whose refs reached 0: swept after the apply unless a slot takes it again.
 * Out of memory only costs the sweep its target (the next full apply finds it). */
static void unref_push(struct bl_svc_sync *s, struct be_entry *be)
{
	if (s->n_unref == s->cap_unref) {
		size_t cap = s->cap_unref ? s->cap_unref * 2 : 64;
		uint32_t *u = realloc(s->unref, cap * sizeof(*u));

		if (!u)
			return;
		s->unref = u;
		s->cap_unref = cap;
	}
	s->unref[s->n_unref++] = be->id;
}

static void be_unref(struct bl_svc_sync *s, uint32_t id)
{
	struct be_entry *be = be_find_id(s, id);

	if (!--be->refs)
		unref_push(s, be);
}

static struct fe_entry *fe_add(struct bl_svc_sync *s, const struct bpflet_fe_key *k, uint32_t svc)
{
	struct fe_entry *fe = calloc(1, sizeof(*fe));

	if (!fe)
		return NULL;
	fe->key = *k;
	fe->val.svc_id = svc;
	HASH_ADD(hh, s->fes, key, sizeof(fe->key), fe);
	HASH_ADD(hh_svc, s->fes_by_svc, val.svc_id, sizeof(fe->val.svc_id), fe);
	if (svc >= s->next_svc_id)
		s->next_svc_id = svc + 1;
	return fe;
}

static struct be_entry *be_add(struct bl_svc_sync *s, uint32_t id, const struct bpflet_backend *b)
{
	struct be_entry *be = calloc(1, sizeof(*be));

	if (!be)
		return NULL;
	be->val = *b;
	be->id = id;
	if (bl_id_put(&s->bes_id, id, be)) {
		free(be);
		return NULL;
	}
	HASH_ADD(hh_ident, s->bes_ident, val, IDENT_LEN, be);
	if (id >= s->next_be_id)
		s->next_be_id = id + 1;
	return be;
}

static int slots_reserve(struct fe_entry *fe, size_t n)
{
	uint32_t *p;
	size_t cap;

	if (n <= fe->cap_slots)
		return 0;
	cap = fe->cap_slots ? fe->cap_slots : 4;
	while (cap < n)
		cap *= 2;
	p = realloc(fe->slots, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	fe->slots = p;
	fe->cap_slots = cap;
	return 0;
}

/* Ids index the per-Service and per-backend counter arrays (bl_svcst_v1, bl_best_v1),
 * so they wrap below the arrays' size; 0 is never used so "no backend" stays
 * representable. 0 back: every id is taken. */
static uint32_t alloc_id(uint32_t *next, uint32_t limit, bool (*taken)(const void *, uint32_t),
			 const void *s)
{
	for (uint32_t tries = 0; tries <= limit; tries++) {
		uint32_t id = (*next)++;

		if (id == 0 || id >= limit) {
			*next = 1;
			continue;
		}
		if (!taken(s, id))
			return id;
	}
	return 0;
}

static bool svc_id_taken(const void *s, uint32_t id)
{
	return fe_find_svc(s, id) != NULL;
}

static bool be_id_taken(const void *s, uint32_t id)
{
	return be_find_id(s, id) != NULL;
}

static uint32_t alloc_svc_id(struct bl_svc_sync *s)
{
	return alloc_id(&s->next_svc_id, BPFLET_SVC_ID_LIMIT, svc_id_taken, s);
}

static uint32_t alloc_be_id(struct bl_svc_sync *s)
{
	return alloc_id(&s->next_be_id, BPFLET_BE_ID_LIMIT, be_id_taken, s);
}

int bl_svc_sync_adopt_frontend(struct bl_svc_sync *s, const struct bpflet_fe_key *k,
			       const struct bpflet_fe_val *v)
{
	struct fe_entry *fe;

	if (fe_find(s, k) || fe_find_svc(s, v->svc_id) || v->svc_id == 0)
		return -EEXIST;
	fe = fe_add(s, k, v->svc_id);
	if (!fe)
		return -ENOMEM;
	fe->val = *v;
	fe->published = true;
	if (v->flags & BPFLET_FE_F_MAGLEV) {
		uint32_t k = v->flags & BPFLET_FE_F_MAGLEV_LARGE ? BPFLET_MAGLEV_LARGE_BLOCKS : 1;
		uint32_t b = v->maglev_base / BPFLET_MAGLEV_M;
		bool ok = v->maglev_base % BPFLET_MAGLEV_M == 0 && b + k <= s->mg_blocks;

		for (uint32_t j = 0; ok && j < k; j++)
			ok = !s->mg_used[b + j];
		if (ok) {
			memset(s->mg_used + b, 1, k);
			fe->mg_block = b;
			fe->mg_nblocks = k;
			fe->mg_m = k > 1 ? BPFLET_MAGLEV_M_LARGE : BPFLET_MAGLEV_M;
		} else {
			fe->val.flags = 0xffff; /* table unusable: force a rewrite */
		}
	}
	return 0;
}

int bl_svc_sync_adopt_slot(struct bl_svc_sync *s, const struct bpflet_slot_key *k,
			   uint32_t backend_id)
{
	if (s->n_pending == s->cap_pending) {
		size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
		void *p = realloc(s->pending, cap * sizeof(*s->pending));

		if (!p)
			return -ENOMEM;
		s->pending = p;
		s->cap_pending = cap;
	}
	s->pending[s->n_pending].k = *k;
	s->pending[s->n_pending].be = backend_id;
	s->n_pending++;
	return 0;
}

int bl_svc_sync_adopt_backend(struct bl_svc_sync *s, uint32_t id, const struct bpflet_backend *b)
{
	if (id == 0 || be_find_id(s, id) || be_find_ident(s, b))
		return -EEXIST;
	return be_add(s, id, b) ? 0 : -ENOMEM;
}

int bl_svc_sync_adopt_done(struct bl_svc_sync *s, const struct bl_map_writer *w)
{
	int orphans = 0;

	/* A slot is kept only if its service exists and its slots form a dense run
	 * from 0 pointing at known backends; anything else is removed now. */
	for (size_t i = 0; i < s->n_pending; i++) {
		struct fe_entry *fe = fe_find_svc(s, s->pending[i].k.svc_id);
		uint32_t slot = s->pending[i].k.slot;

		if (!fe || !be_find_id(s, s->pending[i].be) || slot > 65535) {
			w->remove(w->ctx, BL_DP_SLOT, &s->pending[i].k);
			orphans++;
			continue;
		}
		if (slots_reserve(fe, (size_t)slot + 1))
			return -ENOMEM;
		while (fe->n_slots <= slot)
			fe->slots[fe->n_slots++] = 0;
		fe->slots[slot] = s->pending[i].be;
	}
	free(s->pending);
	s->pending = NULL;
	s->n_pending = s->cap_pending = 0;

	struct fe_entry *fe, *tmp;

	HASH_ITER(hh, s->fes, fe, tmp)
	{
		bool broken = fe->val.count > fe->n_slots;

		/* a missing slot (id 0 here) inside the published range makes the
		 * frontend drop packets: mark it so the next apply rewrites it */
		for (size_t i = 0; i < fe->n_slots; i++) {
			if (fe->slots[i])
				be_find_id(s, fe->slots[i])->refs++;
			else if (i < fe->val.count)
				broken = true;
		}
		if (broken) {
			fe->val.count = 0;
			fe->val.flags = 0xffff; /* differs from any real value: forces a rewrite */
		}
	}
	return orphans;
}

static int write_be(struct bl_svc_sync *s, const struct bpflet_backend *want,
		    const struct bl_map_writer *w, struct bl_sync_stats *st, uint32_t *id_out)
{
	struct be_entry *be = be_find_ident(s, want);
	int err;

	if (be) {
		if (memcmp(&be->val, want, sizeof(*want))) {
			err = w->update(w->ctx, BL_DP_BE, &be->id, want);
			if (err)
				return err;
			be->val = *want;
			st->updates++;
		}
		*id_out = be->id;
		return 0;
	}
	uint32_t id = alloc_be_id(s);

	if (!id)
		return -ENOSPC;
	err = w->update(w->ctx, BL_DP_BE, &id, want);
	if (err)
		return err;
	st->updates++;
	st->be_added++;
	be = be_add(s, id, want);
	if (!be)
		return -ENOMEM;
	unref_push(s, be); /* until a slot points at it */
	*id_out = id;
	return 0;
}

static int write_slot(struct bl_svc_sync *s, struct fe_entry *fe, size_t i, uint32_t id,
		      const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	struct bpflet_slot_key k = {.svc_id = fe->val.svc_id, .slot = (uint32_t)i};
	int err;

	if (i < fe->n_slots && fe->slots[i] == id)
		return 0;
	err = w->update(w->ctx, BL_DP_SLOT, &k, &id);
	if (err)
		return err;
	st->updates++;
	if (i < fe->n_slots) {
		if (fe->slots[i])
			be_unref(s, fe->slots[i]);
	} else {
		if (slots_reserve(fe, i + 1))
			return -ENOMEM;
		fe->n_slots = i + 1;
	}
	fe->slots[i] = id;
	be_find_id(s, id)->refs++;
	return 0;
}

static int trim_slots(struct bl_svc_sync *s, struct fe_entry *fe, size_t n,
		      const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	while (fe->n_slots > n) {
		size_t i = fe->n_slots - 1;
		struct bpflet_slot_key k = {.svc_id = fe->val.svc_id, .slot = (uint32_t)i};
		int err = w->remove(w->ctx, BL_DP_SLOT, &k);

		if (err && err != -ENOENT)
			return err;
		st->removes++;
		if (fe->slots[i])
			be_unref(s, fe->slots[i]);
		fe->n_slots--;
	}
	return 0;
}

/* Lay the wanted ids over the current slots so that kept backends stay where they
 * are: only holes (removed backends) and the tail change. */
static void plan_slots(const struct fe_entry *fe, const uint32_t *want, size_t n, uint32_t *out)
{
	size_t cur = fe->val.count < fe->n_slots ? fe->val.count : fe->n_slots;
	bool *placed = calloc(n ? n : 1, sizeof(bool));
	size_t o = 0, next = 0;

	if (!placed) {
		memcpy(out, want, n * sizeof(*want));
		return;
	}
	/* keep current backends that are still wanted, at their index if it fits */
	uint32_t *tmp = out;

	for (size_t i = 0; i < n; i++)
		tmp[i] = 0;
	for (size_t i = 0; i < cur && i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			if (!placed[j] && want[j] == fe->slots[i]) {
				tmp[i] = want[j];
				placed[j] = true;
				break;
			}
		}
	}
	/* kept backends sitting beyond the new size move into holes first: they
	 * are not placed yet, so the fill below takes them in order */
	for (o = 0; o < n; o++) {
		if (tmp[o])
			continue;
		while (next < n && placed[next])
			next++;
		tmp[o] = want[next];
		placed[next] = true;
	}
	free(placed);
}

/* Bring the frontend's Maglev table to the one for this backend set, writing only
 * the entries that differ. On return *flags says what to publish (MAGLEV cleared when
 * there is no table space). A table of another size goes to new blocks; the old
 * ones stay reserved until the frontend is published without them. */
static int sync_maglev(struct bl_svc_sync *s, struct fe_entry *fe, const struct bl_dp_frontend *d,
		       const uint32_t *ids, const struct bl_map_writer *w, struct bl_sync_stats *st,
		       uint16_t *flags)
{
	size_t n = d->n_backends;
	uint32_t m = bl_maglev_size(n), *table;
	uint32_t k = m == BPFLET_MAGLEV_M ? 1 : BPFLET_MAGLEV_LARGE_BLOCKS;
	int err;

	*flags &= (uint16_t) ~(BPFLET_FE_F_MAGLEV | BPFLET_FE_F_MAGLEV_LARGE);
	if (!n)
		return 0; /* count 0 rejects; the table, if any, is released */
	if (!fe->mg_nblocks || fe->mg_m != m) {
		uint32_t b;

		if (mg_alloc(s, k, &b)) {
			st->maglev_fallbacks++;
			return 0;
		}
		if (fe->mg_stale_nblocks) /* current blocks were never published */
			mg_release(s, fe->mg_block, fe->mg_nblocks);
		else {
			fe->mg_stale_block = fe->mg_block;
			fe->mg_stale_nblocks = fe->mg_nblocks;
		}
		free(fe->mg);
		fe->mg = NULL;
		fe->mg_block = b;
		fe->mg_nblocks = k;
		fe->mg_m = m;
	}
	if (!fe->mg) {
		fe->mg = calloc(m, sizeof(*fe->mg)); /* 0 is never an id: all get written */
		if (!fe->mg)
			return -ENOMEM;
	}
	table = malloc(m * sizeof(*table));
	if (!table)
		return -ENOMEM;
	err = bl_maglev_build(d->backends, n, m, table);
	st->maglev_rebuilds++;
	for (uint32_t i = 0; !err && i < m; i++) {
		uint32_t id = ids[table[i]], key = fe->mg_block * BPFLET_MAGLEV_M + i;

		if (fe->mg[i] == id)
			continue;
		err = w->update(w->ctx, BL_DP_MAGLEV, &key, &id);
		if (err) {
			fe->mg[i] = 0; /* unknown now */
			break;
		}
		fe->mg[i] = id;
		st->maglev_writes++;
		st->updates++;
	}
	free(table);
	if (!err)
		*flags |= BPFLET_FE_F_MAGLEV | (k > 1 ? BPFLET_FE_F_MAGLEV_LARGE : 0);
	return err;
}

static int sync_frontend(struct bl_svc_sync *s, const struct bl_dp_frontend *d,
			 const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	struct fe_entry *fe = fe_find(s, &d->key);
	uint32_t *ids = NULL, *layout = NULL;
	struct bpflet_fe_val val;
	size_t n = d->n_backends;
	uint16_t flags = d->flags;
	bool is_new = !fe;
	int err = 0;

	if (n > 65535)
		return -E2BIG;
	ids = calloc(n ? n : 1, sizeof(*ids));
	layout = calloc(n ? n : 1, sizeof(*layout));
	if (!ids || !layout) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		err = write_be(s, &d->backends[i], w, st, &ids[i]);
		if (err)
			goto out;
	}
	if (is_new) {
		uint32_t svc_id = alloc_svc_id(s);

		fe = svc_id ? fe_add(s, &d->key, svc_id) : NULL;
		if (!fe) {
			err = svc_id ? -ENOMEM : -ENOSPC;
			goto out;
		}
	}
	if (strncmp(fe->name, d->name, sizeof(fe->name))) {
		struct bpflet_svc_name nm = {0};

		memcpy(nm.name, d->name, strnlen(d->name, sizeof(nm.name) - 1));
		err = w->update(w->ctx, BL_DP_SVCNAME, &fe->val.svc_id, &nm);
		if (err)
			goto out;
		st->updates++;
		memcpy(fe->name, nm.name, sizeof(fe->name));
	}
	plan_slots(fe, ids, n, layout);
	for (size_t i = 0; i < n; i++) {
		err = write_slot(s, fe, i, layout[i], w, st);
		if (err)
			goto out;
	}
	if (flags & BPFLET_FE_F_MAGLEV) {
		err = sync_maglev(s, fe, d, ids, w, st, &flags);
		if (err)
			goto out;
	} else {
		flags &= (uint16_t)~BPFLET_FE_F_MAGLEV_LARGE;
	}
	val = fe->val;
	val.count = (uint16_t)n;
	val.flags = flags;
	val.affinity_timeout = d->affinity_timeout;
	val.maglev_base = flags & BPFLET_FE_F_MAGLEV ? fe->mg_block * BPFLET_MAGLEV_M : 0;
	if (!fe->published || memcmp(&val, &fe->val, sizeof(val))) {
		err = w->update(w->ctx, BL_DP_FE, &fe->key, &val);
		if (err)
			goto out;
		st->updates++;
		if (is_new || !fe->published)
			st->fe_added++;
		else
			st->fe_changed++;
		fe->val = val;
		fe->published = true;
	}
	/* tables the published frontend no longer reads: free for another frontend
	 * of this apply once that frontend's new entry is in the map */
	if ((fe->mg_stale_nblocks || (!(flags & BPFLET_FE_F_MAGLEV) && fe->mg_nblocks)) &&
	    w->flush) {
		err = w->flush(w->ctx);
		if (err)
			goto out;
	}
	mg_release(s, fe->mg_stale_block, fe->mg_stale_nblocks);
	fe->mg_stale_block = fe->mg_stale_nblocks = 0;
	if (!(flags & BPFLET_FE_F_MAGLEV) && fe->mg_nblocks) {
		mg_release(s, fe->mg_block, fe->mg_nblocks);
		free(fe->mg);
		fe->mg = NULL;
		fe->mg_block = fe->mg_nblocks = fe->mg_m = 0;
	}
	/* slots past the published count are unreachable now */
	err = trim_slots(s, fe, n, w, st);
out:
	if (fe)
		fe->seen = true;
	free(ids);
	free(layout);
	return err;
}

static int remove_frontend(struct bl_svc_sync *s, struct fe_entry *fe,
			   const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	int err;

	if (fe->published) {
		err = w->remove(w->ctx, BL_DP_FE, &fe->key);
		if (err && err != -ENOENT)
			return err;
		st->removes++;
		fe->published = false;
	}
	err = trim_slots(s, fe, 0, w, st);
	if (err)
		return err;
	if (fe->name[0]) {
		err = w->remove(w->ctx, BL_DP_SVCNAME, &fe->val.svc_id);
		if (err && err != -ENOENT)
			return err;
		st->removes++;
	}
	st->fe_removed++;
	fe_free(s, fe);
	return 0;
}

static int remove_backend(struct bl_svc_sync *s, struct be_entry *be, const struct bl_map_writer *w,
			  struct bl_sync_stats *st)
{
	int err = w->remove(w->ctx, BL_DP_BE, &be->id);

	if (err && err != -ENOENT)
		return err;
	st->removes++;
	st->be_removed++;
	be_free(s, be);
	return 0;
}

int bl_svc_sync_apply(struct bl_svc_sync *s, const struct bl_dp_frontend *want, size_t n,
		      const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	struct fe_entry *fe, *ftmp;
	struct be_entry *be, *btmp;
	int first_err = 0, err;

	memset(st, 0, sizeof(*st));
	HASH_ITER(hh, s->fes, fe, ftmp)
	fe->seen = false;
	for (size_t i = 0; i < n; i++) {
		fe = fe_find(s, &want[i].key);
		if (fe)
			fe->seen = true;
	}
	/* frontends that went away first: their Maglev blocks and map room serve the
	 * ones that come in this round */
	HASH_ITER(hh, s->fes, fe, ftmp)
	{
		if (fe->seen)
			continue;
		err = remove_frontend(s, fe, w, st);
		if (err) {
			st->errors++;
			if (!first_err)
				first_err = err;
		}
	}
	for (size_t i = 0; i < n; i++) {
		err = sync_frontend(s, &want[i], w, st);
		if (err) {
			st->errors++;
			if (!first_err)
				first_err = err;
		}
	}
	HASH_ITER(hh_ident, s->bes_ident, be, btmp)
	{
		if (be->refs)
			continue;
		err = remove_backend(s, be, w, st);
		if (err && !first_err)
			first_err = err;
	}
	s->n_unref = 0;
	return first_err;
}

int bl_svc_sync_apply_delta(struct bl_svc_sync *s, const struct bl_dp_frontend *want, size_t n,
			    const struct bpflet_fe_key *gone, size_t n_gone,
			    const struct bl_map_writer *w, struct bl_sync_stats *st)
{
	int first_err = 0, err;
	size_t n_unref;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n_gone; i++) {
		struct fe_entry *fe = fe_find(s, &gone[i]);

		if (fe && (err = remove_frontend(s, fe, w, st))) {
			st->errors++;
			first_err = first_err ? first_err : err;
		}
	}
	for (size_t i = 0; i < n; i++) {
		err = sync_frontend(s, &want[i], w, st);
		if (err) {
			st->errors++;
			first_err = first_err ? first_err : err;
		}
	}
	/* a failed removal stays listed for the next apply */
	n_unref = s->n_unref;
	s->n_unref = 0;
	for (size_t i = 0; i < n_unref; i++) {
		struct be_entry *be = be_find_id(s, s->unref[i]);

		if (be && !be->refs && (err = remove_backend(s, be, w, st))) {
			unref_push(s, be);
			first_err = first_err ? first_err : err;
		}
	}
	return first_err;
}

size_t bl_svc_sync_frontends(const struct bl_svc_sync *s)
{
	return HASH_COUNT(s->fes);
}

size_t bl_svc_sync_backends(const struct bl_svc_sync *s)
{
	return s->bes_id.n;
}

uint32_t bl_svc_sync_svc_id(const struct bl_svc_sync *s, const struct bpflet_fe_key *k)
{
	const struct fe_entry *fe = fe_find(s, k);

	return fe ? fe->val.svc_id : 0;
}

int bl_svc_sync_for_each_member(const struct bl_svc_sync *s,
				int (*fn)(void *arg, uint32_t svc_id, uint32_t backend_id),
				void *arg)
{
	struct fe_entry *fe, *tmp;
	int err;

	HASH_ITER(hh, s->fes, fe, tmp)
	{
		if (!fe->published)
			continue;
		for (size_t i = 0; i < fe->val.count && i < fe->n_slots; i++) {
			err = fn(arg, fe->val.svc_id, fe->slots[i]);
			if (err)
				return err;
		}
	}
	return 0;
}
