#include "controlplane/compile/compile_incr.h"

#include "controlplane/compile/health_checks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

/* One Service's own compile result. */
struct group {
	char *key;
	struct bl_svc_table t;
	bool seen; /* set during a full rebuild */
	UT_hash_handle hh;
};

/* Every Service that claims one frontend key; the owner is the least key. */
struct claims {
	struct bpflet_fe_key key;
	size_t n, cap;
	struct claim {
		const struct group *g;
		size_t i; /* g->t.fe[i] */
	} * c;
	bool dirty;
	UT_hash_handle hh;
};

struct bl_compile_incr {
	struct group *groups;
	struct claims *claims;
	struct claims **dirty; /* claims with dirty set, possibly empty (n == 0) */
	size_t n_dirty, cap_dirty;
	bool extras_dirty;
	struct bl_svc_table extras; /* hc and src only */
};

struct bl_compile_incr *bl_compile_incr_new(void)
{
	struct bl_compile_incr *ci = calloc(1, sizeof(*ci));

	if (ci)
		ci->extras_dirty = true;
	return ci;
}

static void group_free(struct group *g)
{
	bl_svc_table_free(&g->t);
	free(g->key);
	free(g);
}

void bl_compile_incr_free(struct bl_compile_incr *ci)
{
	struct group *g, *gt;
	struct claims *c, *ct;

	if (!ci)
		return;
	HASH_ITER(hh, ci->groups, g, gt)
	{
		HASH_DEL(ci->groups, g);
		group_free(g);
	}
	HASH_ITER(hh, ci->claims, c, ct)
	{
		HASH_DEL(ci->claims, c);
		free(c->c);
		free(c);
	}
	free(ci->dirty);
	bl_svc_table_free(&ci->extras);
	free(ci);
}

size_t bl_compile_incr_services(const struct bl_compile_incr *ci)
{
	return HASH_COUNT(ci->groups);
}

static int mark_dirty(struct bl_compile_incr *ci, struct claims *c)
{
	if (c->dirty)
		return 0;
	if (ci->n_dirty == ci->cap_dirty) {
		size_t cap = ci->cap_dirty ? ci->cap_dirty * 2 : 64;
		struct claims **d = realloc(ci->dirty, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		ci->dirty = d;
		ci->cap_dirty = cap;
	}
	ci->dirty[ci->n_dirty++] = c;
	c->dirty = true;
	return 0;
}

/* Room first, so that taking a group's claims away and adding new ones cannot fail
 * halfway. */
static int reserve(struct bl_compile_incr *ci, const struct bl_svc_table *t, size_t n_old)
{
	size_t need = ci->n_dirty + t->n + n_old;

	if (need > ci->cap_dirty) {
		struct claims **d = realloc(ci->dirty, need * 2 * sizeof(*d));

		if (!d)
			return -ENOMEM;
		ci->dirty = d;
		ci->cap_dirty = need * 2;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct claims *c;

		HASH_FIND(hh, ci->claims, &t->fe[i].key, sizeof(t->fe[i].key), c);
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->key = t->fe[i].key;
			HASH_ADD(hh, ci->claims, key, sizeof(c->key), c);
			mark_dirty(ci, c); /* a new empty entry is dropped again by take */
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1;
			struct claim *cl = realloc(c->c, cap * sizeof(*cl));

			if (!cl)
				return -ENOMEM;
			c->c = cl;
			c->cap = cap;
		}
	}
	return 0;
}

static void unclaim(struct bl_compile_incr *ci, const struct group *g)
{
	for (size_t i = 0; i < g->t.n; i++) {
		struct claims *c;

		HASH_FIND(hh, ci->claims, &g->t.fe[i].key, sizeof(g->t.fe[i].key), c);
		for (size_t j = 0; c && j < c->n; j++)
			if (c->c[j].g == g) {
				c->c[j] = c->c[--c->n];
				mark_dirty(ci, c); /* room reserved */
				break;
			}
	}
}

static void claim(struct bl_compile_incr *ci, const struct group *g)
{
	for (size_t i = 0; i < g->t.n; i++) {
		struct claims *c;

		HASH_FIND(hh, ci->claims, &g->t.fe[i].key, sizeof(g->t.fe[i].key), c);
		c->c[c->n++] = (struct claim){g, i}; /* found and sized by reserve */
		mark_dirty(ci, c);
	}
}

static bool has_extras(const struct bl_svc_table *t)
{
	return t->n_hc || t->n_src;
}

static void group_drop(struct bl_compile_incr *ci, struct group *g)
{
	unclaim(ci, g);
	ci->extras_dirty |= has_extras(&g->t);
	HASH_DEL(ci->groups, g);
	group_free(g);
}

int bl_compile_incr_set(struct bl_compile_incr *ci, const char *key,
			const struct bl_k8s_service *svcs, size_t n_svcs,
			const struct bl_k8s_endpointslice *slices, size_t n_slices,
			const struct bl_compile_opts *opts, struct bl_errlist *errs)
{
	struct bl_svc_table t = {0};
	struct group *g;
	int e = 0;

	HASH_FIND_STR(ci->groups, key, g);
	if (!n_svcs && !n_slices) {
		if (g)
			e = reserve(ci, &t, g->t.n);
		if (g && !e)
			group_drop(ci, g);
		return g ? e : 0;
	}
	e = bl_compile_services(svcs, n_svcs, slices, n_slices, opts, &t, errs);
	if (!e)
		e = reserve(ci, &t, g ? g->t.n : 0);
	if (!e && !g) {
		g = calloc(1, sizeof(*g));
		if (!g || !(g->key = strdup(key))) {
			free(g);
			e = -ENOMEM;
		} else {
			HASH_ADD_KEYPTR(hh, ci->groups, g->key, strlen(g->key), g);
		}
	}
	if (e) {
		bl_svc_table_free(&t);
		return e;
	}
	unclaim(ci, g);
	ci->extras_dirty |= has_extras(&g->t) || has_extras(&t);
	bl_svc_table_free(&g->t);
	g->t = t;
	g->seen = true;
	claim(ci, g);
	return 0;
}

void bl_compile_incr_begin(struct bl_compile_incr *ci)
{
	struct group *g, *gt;

	HASH_ITER(hh, ci->groups, g, gt)
	g->seen = false;
}

void bl_compile_incr_end(struct bl_compile_incr *ci)
{
	struct group *g, *gt;
	struct bl_svc_table none = {0};

	HASH_ITER(hh, ci->groups, g, gt)
	{
		/* without room to note its frontends, a stale Service stays (reported
		 * changed by a later rebuild) rather than leave keys unreported */
		if (!g->seen && !reserve(ci, &none, g->t.n))
			group_drop(ci, g);
	}
}

static const struct claim *owner(const struct claims *c)
{
	const struct claim *best = NULL;

	for (size_t j = 0; j < c->n; j++)
		if (!best || strcmp(c->c[j].g->key, best->g->key) < 0)
			best = &c->c[j];
	return best;
}

static void report_conflict(const struct claims *c, const struct claim *win,
			    struct bl_errlist *errs)
{
	const struct bl_svc_frontend *w = &win->g->t.fe[win->i];
	char key[80];

	for (size_t j = 0; j < c->n; j++)
		if (&c->c[j] != win)
			bl_errlist_add(errs, "frontend %s: claimed by %s and %s; kept for %s",
				       bl_svc_fe_key_format(&c->key, key, sizeof(key)), w->name,
				       c->c[j].g->t.fe[c->c[j].i].name, w->name);
}

int bl_compile_incr_take(struct bl_compile_incr *ci, const struct bl_svc_frontend ***fe, size_t *n,
			 struct bpflet_fe_key **gone, size_t *n_gone, struct bl_errlist *errs)
{
	const struct bl_svc_frontend **f = malloc((ci->n_dirty + 1) * sizeof(*f));
	struct bpflet_fe_key *g = malloc((ci->n_dirty + 1) * sizeof(*g));

	*n = *n_gone = 0;
	if (!f || !g) {
		free(f);
		free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ci->n_dirty; i++) {
		struct claims *c = ci->dirty[i];
		const struct claim *win = owner(c);

		c->dirty = false;
		if (!win) {
			g[(*n_gone)++] = c->key;
			HASH_DEL(ci->claims, c);
			free(c->c);
			free(c);
			continue;
		}
		if (c->n > 1)
			report_conflict(c, win, errs);
		f[(*n)++] = &win->g->t.fe[win->i];
	}
	ci->n_dirty = 0;
	*fe = f;
	*gone = g;
	return 0;
}

int bl_compile_incr_all(const struct bl_compile_incr *ci, const struct bl_svc_frontend ***fe,
			size_t *n)
{
	const struct bl_svc_frontend **f = malloc((HASH_COUNT(ci->claims) + 1) * sizeof(*f));
	const struct claims *c, *ct;

	*n = 0;
	if (!f)
		return -ENOMEM;
	HASH_ITER(hh, ci->claims, c, ct)
	{
		const struct claim *win = owner(c);

		if (win)
			f[(*n)++] = &win->g->t.fe[win->i];
	}
	*fe = f;
	return 0;
}

static int src_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bpflet_srcrange_key));
}

int bl_compile_incr_extras(struct bl_compile_incr *ci, const struct bl_svc_table **out,
			   bool *changed, struct bl_errlist *errs)
{
	struct bl_hc_vec hc = {0};
	size_t n_src = 0, at = 0;
	struct bpflet_srcrange_key *src;
	struct group *g, *gt;

	*out = &ci->extras;
	*changed = ci->extras_dirty;
	if (!ci->extras_dirty)
		return 0;
	HASH_ITER(hh, ci->groups, g, gt)
	{
		hc.n += g->t.n_hc;
		n_src += g->t.n_src;
	}
	hc.hc = calloc(hc.n + 1, sizeof(*hc.hc));
	src = calloc(n_src + 1, sizeof(*src));
	if (!hc.hc || !src) {
		free(hc.hc);
		free(src);
		return -ENOMEM;
	}
	hc.cap = hc.n;
	hc.n = 0;
	HASH_ITER(hh, ci->groups, g, gt)
	{
		if (g->t.n_hc)
			memcpy(hc.hc + hc.n, g->t.hc, g->t.n_hc * sizeof(*hc.hc));
		hc.n += g->t.n_hc;
		if (g->t.n_src)
			memcpy(src + at, g->t.src, g->t.n_src * sizeof(*src));
		at += g->t.n_src;
	}
	bl_svc_table_free(&ci->extras);
	bl_hc_finish(&hc, &ci->extras, errs);
	if (n_src)
		qsort(src, n_src, sizeof(*src), src_cmp);
	for (size_t i = 0; i < n_src; i++)
		if (!ci->extras.n_src || src_cmp(&src[ci->extras.n_src - 1], &src[i]))
			src[ci->extras.n_src++] = src[i];
	ci->extras.src = src;
	ci->extras_dirty = false;
	return 0;
}
