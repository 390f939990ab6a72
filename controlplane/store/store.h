/* The cluster's key-value store: one revision counter, MVCC reads, conditional writes and
 * watches. Backends (SQLite, etcd) fill in struct bl_store_ops; callers use the
 * bl_store_* wrappers and never see which backend is behind. */
#ifndef BPFLET_STORE_H
#define BPFLET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bl_store_err {
	BL_STORE_OK = 0,
	BL_STORE_NOT_FOUND = -1,
	BL_STORE_EXISTS = -2,
	BL_STORE_CONFLICT = -3,	 /* expected mod revision is not the current one */
	BL_STORE_COMPACTED = -4, /* the revision asked for was compacted away */
	BL_STORE_FUTURE = -5,	 /* the revision asked for does not exist yet */
	BL_STORE_IO = -6,
};

const char *bl_store_strerror(int err);

/* One version of one key. value is NUL-terminated (len excludes the NUL). */
struct bl_kv {
	char *key;
	char *value;
	size_t len;
	int64_t mod_rev;
	int64_t create_rev;
	int64_t lease;
};

void bl_kv_free(struct bl_kv *kv);

struct bl_kv_list {
	struct bl_kv *items;
	size_t n;
	int64_t rev; /* the revision the list was read at */
	bool more;   /* limit cut the list short */
};

void bl_kv_list_free(struct bl_kv_list *l);

enum bl_event_type { BL_EV_PUT, BL_EV_DELETE };

/* kv is the new version (for DELETE: the deleted value, mod_rev = the delete's revision);
 * prev is the version before, or NULL when the key was created. */
struct bl_event {
	enum bl_event_type type;
	const struct bl_kv *kv;
	const struct bl_kv *prev;
};

typedef void (*bl_watch_cb)(const struct bl_event *ev, void *arg);
struct bl_watch;
struct bl_store;

struct bl_store_ops {
	int (*get)(struct bl_store *s, const char *key, int64_t rev, struct bl_kv *out);
	int (*list)(struct bl_store *s, const char *prefix, const char *start_after, int64_t rev,
		    size_t limit, struct bl_kv_list *out);
	int (*create)(struct bl_store *s, const char *key, const char *val, size_t len,
		      int64_t lease, int64_t *rev);
	int (*update)(struct bl_store *s, const char *key, const char *val, size_t len,
		      int64_t expect_rev, int64_t *rev);
	int (*del)(struct bl_store *s, const char *key, int64_t expect_rev, int64_t *rev,
		   struct bl_kv *prev);
	int64_t (*current_rev)(struct bl_store *s);
	int64_t (*compact_rev)(struct bl_store *s);
	int (*compact)(struct bl_store *s, int64_t rev);
	int (*watch)(struct bl_store *s, const char *prefix, int64_t after_rev, bl_watch_cb cb,
		     void *arg, struct bl_watch **out);
	void (*unwatch)(struct bl_store *s, struct bl_watch *w);
	void (*close)(struct bl_store *s);
};

struct bl_store {
	const struct bl_store_ops *ops;
};

/* SQLite backend: DIR/state.db, WAL, every acknowledged write fsynced. */
int bl_sqlite_store_open(const char *path, struct bl_store **out);

struct event_base;

/* etcd backend: servers is "http://HOST:PORT[,...]" (etcd v3's JSON gateway); the watch
 * thread wakes the loop on base. */
int bl_etcd_store_open(const char *servers, struct event_base *base, struct bl_store **out);

/* rev 0 means "now". get: NOT_FOUND when absent at rev; COMPACTED when rev is too old. */
static inline int bl_store_get(struct bl_store *s, const char *key, int64_t rev, struct bl_kv *out)
{
	return s->ops->get(s, key, rev, out);
}

/* Keys starting with prefix, after start_after (NULL: from the start), sorted, at rev.
 * limit 0 means no limit. */
static inline int bl_store_list(struct bl_store *s, const char *prefix, const char *start_after,
				int64_t rev, size_t limit, struct bl_kv_list *out)
{
	return s->ops->list(s, prefix, start_after, rev, limit, out);
}

/* EXISTS when the key is live. */
static inline int bl_store_create(struct bl_store *s, const char *key, const char *val, size_t len,
				  int64_t lease, int64_t *rev)
{
	return s->ops->create(s, key, val, len, lease, rev);
}

/* expect_rev 0: unconditional (the key must still exist). */
static inline int bl_store_update(struct bl_store *s, const char *key, const char *val, size_t len,
				  int64_t expect_rev, int64_t *rev)
{
	return s->ops->update(s, key, val, len, expect_rev, rev);
}

/* prev (may be NULL) receives the deleted version. */
static inline int bl_store_delete(struct bl_store *s, const char *key, int64_t expect_rev,
				  int64_t *rev, struct bl_kv *prev)
{
	return s->ops->del(s, key, expect_rev, rev, prev);
}

static inline int64_t bl_store_current_rev(struct bl_store *s)
{
	return s->ops->current_rev(s);
}

static inline int64_t bl_store_compact_rev(struct bl_store *s)
{
	return s->ops->compact_rev(s);
}

/* Forget versions superseded at or before rev; reads and watches older than rev fail
 * with COMPACTED afterwards. */
static inline int bl_store_compact(struct bl_store *s, int64_t rev)
{
	return s->ops->compact(s, rev);
}

/* Calls cb for every change under prefix with revision > after_rev: first the history
 * (synchronously, before returning), then live changes as they commit. Callbacks run on
 * the writer's thread (the event loop) and may unwatch, even themselves. */
static inline int bl_store_watch(struct bl_store *s, const char *prefix, int64_t after_rev,
				 bl_watch_cb cb, void *arg, struct bl_watch **out)
{
	return s->ops->watch(s, prefix, after_rev, cb, arg, out);
}

static inline void bl_store_unwatch(struct bl_store *s, struct bl_watch *w)
{
	s->ops->unwatch(s, w);
}

static inline void bl_store_close(struct bl_store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
