/* SQLite backend in kine's layout: one append-only table, the row id is the cluster
 * revision. A write appends a row naming the key, the revision it replaces
 * (prev_revision) and both values; compaction deletes superseded rows and tombstones. */
#include "controlplane/store/store.h"
#include "controlplane/store/watch_hub.h"
#include "agent/common/log.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct sq_store {
	struct bl_store base;
	sqlite3 *db;
	int64_t rev;
	int64_t compact_rev;
	struct bl_watch_hub hub;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS kine ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL,"
	" created INTEGER,"
	" deleted INTEGER,"
	" create_revision INTEGER,"
	" prev_revision INTEGER,"
	" lease INTEGER,"
	" value BLOB,"
	" old_value BLOB);"
	"CREATE INDEX IF NOT EXISTS kine_name_index ON kine (name);"
	"CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);"
	"CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex"
	" ON kine (name, prev_revision);"
	/* the compacted revision; kept apart so compaction never bumps the revision */
	"CREATE TABLE IF NOT EXISTS kine_meta (k TEXT PRIMARY KEY, v INTEGER);";

static struct sq_store *sq(struct bl_store *s)
{
	return (struct sq_store *)s;
}

static int sq_fail(struct sq_store *st, const char *what)
{
	log_err("store: %s: %s", what, sqlite3_errmsg(st->db));
	return BL_STORE_IO;
}

static int exec(struct sq_store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_err("store: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return BL_STORE_IO;
	}
	return 0;
}

static sqlite3_stmt *prep(struct sq_store *st, const char *sql)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		sq_fail(st, sql);
		return NULL;
	}
	return stmt;
}

static char *dup_blob(sqlite3_stmt *stmt, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(stmt, col);
	size_t n = (size_t)sqlite3_column_bytes(stmt, col);
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	if (n)
		memcpy(out, p, n);
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

/* The end of the key range that starts with prefix: the prefix with its last byte + 1. */
static char *prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = malloc(n + 2);

	if (!end)
		return NULL;
	memcpy(end, prefix, n + 1);
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n == 0) {
		/* empty prefix (or all 0xff): everything */
		strcpy(end, "\xff\xff");
		return end;
	}
	end[n - 1]++;
	return end;
}

static int check_rev(struct sq_store *st, int64_t rev)
{
	if (rev > st->rev)
		return BL_STORE_FUTURE;
	if (rev > 0 && rev < st->compact_rev)
		return BL_STORE_COMPACTED;
	return 0;
}

/* The newest row of key at or before rev: its id, create revision, value. */
struct row {
	int64_t id, create_rev, lease;
	bool deleted;
	char *value;
	size_t len;
};

static int latest(struct sq_store *st, const char *key, int64_t rev, struct row *r)
{
	sqlite3_stmt *stmt =
		prep(st, "SELECT id, CASE WHEN created THEN id ELSE create_revision END,"
			 " deleted, lease, value FROM kine WHERE name = ?1 AND id <= ?2"
			 " ORDER BY id DESC LIMIT 1");
	int rc;

	memset(r, 0, sizeof(*r));
	if (!stmt)
		return BL_STORE_IO;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, rev ? rev : INT64_MAX);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(stmt, 0);
		r->create_rev = sqlite3_column_int64(stmt, 1);
		r->deleted = sqlite3_column_int(stmt, 2) != 0;
		r->lease = sqlite3_column_int64(stmt, 3);
		r->value = dup_blob(stmt, 4, &r->len);
		rc = r->value ? 0 : BL_STORE_IO;
	} else if (rc == SQLITE_DONE) {
		rc = BL_STORE_NOT_FOUND;
	} else {
		rc = sq_fail(st, "read");
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int sq_get(struct bl_store *s, const char *key, int64_t rev, struct bl_kv *out)
{
	struct sq_store *st = sq(s);
	struct row r;
	int rc = check_rev(st, rev);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = latest(st, key, rev, &r);
	if (rc)
		return rc;
	if (r.deleted) {
		free(r.value);
		return BL_STORE_NOT_FOUND;
	}
	out->key = strdup(key);
	out->value = r.value;
	out->len = r.len;
	out->mod_rev = r.id;
	out->create_rev = r.create_rev;
	out->lease = r.lease;
	return out->key ? 0 : BL_STORE_IO;
}

/* One batch of list: the newest version at or before rev of up to batch names after
 * start_after (tombstones included, skipped by the caller). The limit sits inside the
 * GROUP BY, so a page costs its own size, not the rest of the range. */
static sqlite3_stmt *list_batch(struct sq_store *st, const char *prefix, const char *end,
				const char *start_after, int64_t rev, int64_t batch)
{
	sqlite3_stmt *stmt =
		prep(st, "SELECT k.id, k.name, CASE WHEN k.created THEN k.id ELSE"
			 " k.create_revision END, k.lease, k.value, k.deleted FROM"
			 " (SELECT MAX(id) AS mid FROM kine WHERE name >= ?1 AND name < ?2"
			 "  AND name > ?3 AND id <= ?4 GROUP BY name ORDER BY name LIMIT ?5) m"
			 " JOIN kine k ON k.id = m.mid ORDER BY k.name");

	if (!stmt)
		return NULL;
	sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, end, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, start_after, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 4, rev);
	sqlite3_bind_int64(stmt, 5, batch);
	return stmt;
}

static int list_add(struct bl_kv_list *out, size_t *cap, sqlite3_stmt *stmt)
{
	struct bl_kv *kv;

	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct bl_kv *items = realloc(out->items, ncap * sizeof(*items));

		if (!items)
			return -1;
		out->items = items;
		*cap = ncap;
	}
	kv = &out->items[out->n];
	kv->mod_rev = sqlite3_column_int64(stmt, 0);
	kv->key = strdup((const char *)sqlite3_column_text(stmt, 1));
	kv->create_rev = sqlite3_column_int64(stmt, 2);
	kv->lease = sqlite3_column_int64(stmt, 3);
	kv->value = dup_blob(stmt, 4, &kv->len);
	if (!kv->key || !kv->value) {
		bl_kv_free(kv);
		return -1;
	}
	out->n++;
	return 0;
}

static int sq_list(struct bl_store *s, const char *prefix, const char *start_after, int64_t rev,
		   size_t limit, struct bl_kv_list *out)
{
	struct sq_store *st = sq(s);
	char *end, *after;
	size_t cap = 0;
	int rc = check_rev(st, rev);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	if (!rev)
		rev = st->rev;
	out->rev = rev;
	end = prefix_end(prefix);
	after = strdup(start_after ? start_after : "");
	/* batches until one more than asked (that one says there is more) or the end;
	 * tombstones make a batch come back short of live rows */
	while (end && after && rc == 0) {
		int64_t want = limit ? (int64_t)(limit + 1 - out->n) : -1, got = 0;
		sqlite3_stmt *stmt = list_batch(st, prefix, end, after, rev, want);

		if (!stmt) {
			rc = BL_STORE_IO;
			break;
		}
		while (rc == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			got++;
			free(after);
			after = strdup((const char *)sqlite3_column_text(stmt, 1));
			rc = 0;
			if (sqlite3_column_int(stmt, 5))
				continue;
			if (limit && out->n == limit) {
				out->more = true;
				continue;
			}
			if (list_add(out, &cap, stmt) || !after)
				rc = BL_STORE_IO;
		}
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc != BL_STORE_IO)
			rc = sq_fail(st, "list");
		sqlite3_finalize(stmt);
		if (want < 0 || got < want || out->more)
			break;
	}
	if (!end || !after)
		rc = BL_STORE_IO;
	free(end);
	free(after);
	if (rc)
		bl_kv_list_free(out);
	return rc;
}

/* Appends one row inside an open transaction and commits. */
static int append(struct sq_store *st, const char *key, bool created, bool deleted,
		  int64_t create_rev, int64_t prev_rev, int64_t lease, const char *val, size_t len,
		  const char *old, size_t old_len, int64_t *rev)
{
	sqlite3_stmt *stmt = prep(st, "INSERT INTO kine (name, created, deleted, create_revision,"
				      " prev_revision, lease, value, old_value)"
				      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	int rc;

	if (!stmt)
		return BL_STORE_IO;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, created);
	sqlite3_bind_int(stmt, 3, deleted);
	sqlite3_bind_int64(stmt, 4, create_rev);
	sqlite3_bind_int64(stmt, 5, prev_rev);
	sqlite3_bind_int64(stmt, 6, lease);
	sqlite3_bind_blob(stmt, 7, val ? val : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(stmt, 8, old ? old : "", (int)old_len, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "insert");
	*rev = sqlite3_last_insert_rowid(st->db);
	/* COMMIT returns once the WAL is fsynced (synchronous=FULL): the write is durable
	 * before anyone hears of it. */
	if (exec(st, "COMMIT"))
		return BL_STORE_IO;
	st->rev = *rev;
	return 0;
}

static void publish(struct sq_store *st, enum bl_event_type type, const char *key, int64_t rev,
		    int64_t create_rev, int64_t lease, const char *val, size_t len,
		    const struct row *prev)
{
	struct bl_kv kv = {(char *)key, (char *)val, len, rev, create_rev, lease};
	struct bl_kv pkv;
	struct bl_event ev = {type, &kv, NULL};

	if (prev && prev->id && !prev->deleted) {
		pkv = (struct bl_kv){(char *)key, prev->value,	    prev->len,
				     prev->id,	  prev->create_rev, prev->lease};
		ev.prev = &pkv;
	}
	bl_hub_publish(&st->hub, &ev);
}

static int sq_create(struct bl_store *s, const char *key, const char *val, size_t len,
		     int64_t lease, int64_t *rev)
{
	struct sq_store *st = sq(s);
	struct row r;
	int64_t newrev = 0;
	int rc;

	if (exec(st, "BEGIN IMMEDIATE"))
		return BL_STORE_IO;
	rc = latest(st, key, 0, &r);
	if (rc == 0 && !r.deleted)
		rc = BL_STORE_EXISTS;
	else if (rc == 0 || rc == BL_STORE_NOT_FOUND)
		rc = append(st, key, true, false, 0, r.id, lease, val, len, NULL, 0, &newrev);
	free(r.value);
	if (rc) {
		exec(st, "ROLLBACK");
		return rc;
	}
	if (rev)
		*rev = newrev;
	publish(st, BL_EV_PUT, key, newrev, newrev, lease, val, len, NULL);
	return 0;
}

static int sq_update(struct bl_store *s, const char *key, const char *val, size_t len,
		     int64_t expect_rev, int64_t *rev)
{
	struct sq_store *st = sq(s);
	struct row r;
	int64_t newrev = 0;
	int rc;

	if (exec(st, "BEGIN IMMEDIATE"))
		return BL_STORE_IO;
	rc = latest(st, key, 0, &r);
	if (rc == 0 && r.deleted)
		rc = BL_STORE_NOT_FOUND;
	else if (rc == 0 && expect_rev && r.id != expect_rev)
		rc = BL_STORE_CONFLICT;
	else if (rc == 0)
		rc = append(st, key, false, false, r.create_rev, r.id, r.lease, val, len, r.value,
			    r.len, &newrev);
	if (rc) {
		free(r.value);
		exec(st, "ROLLBACK");
		return rc;
	}
	if (rev)
		*rev = newrev;
	publish(st, BL_EV_PUT, key, newrev, r.create_rev, r.lease, val, len, &r);
	free(r.value);
	return 0;
}

static int sq_del(struct bl_store *s, const char *key, int64_t expect_rev, int64_t *rev,
		  struct bl_kv *prev)
{
	struct sq_store *st = sq(s);
	struct row r;
	int64_t newrev = 0;
	int rc;

	if (prev)
		memset(prev, 0, sizeof(*prev));
	if (exec(st, "BEGIN IMMEDIATE"))
		return BL_STORE_IO;
	rc = latest(st, key, 0, &r);
	if (rc == 0 && r.deleted)
		rc = BL_STORE_NOT_FOUND;
	else if (rc == 0 && expect_rev && r.id != expect_rev)
		rc = BL_STORE_CONFLICT;
	else if (rc == 0)
		rc = append(st, key, false, true, r.create_rev, r.id, r.lease, r.value, r.len,
			    r.value, r.len, &newrev);
	if (rc) {
		free(r.value);
		exec(st, "ROLLBACK");
		return rc;
	}
	if (rev)
		*rev = newrev;
	publish(st, BL_EV_DELETE, key, newrev, r.create_rev, r.lease, r.value, r.len, &r);
	if (prev) {
		*prev = (struct bl_kv){strdup(key), r.value, r.len, r.id, r.create_rev, r.lease};
		return 0;
	}
	free(r.value);
	return 0;
}

static int64_t sq_current_rev(struct bl_store *s)
{
	return sq(s)->rev;
}

static int64_t sq_compact_rev(struct bl_store *s)
{
	return sq(s)->compact_rev;
}

static int sq_compact(struct bl_store *s, int64_t rev)
{
	struct sq_store *st = sq(s);
	sqlite3_stmt *del, *meta;
	int rc;

	if (rev > st->rev)
		return BL_STORE_FUTURE;
	if (rev <= st->compact_rev)
		return 0;
	if (exec(st, "BEGIN IMMEDIATE"))
		return BL_STORE_IO;
	/* Superseded rows (some later row at or before rev names them as prev) and
	 * tombstones at or before rev: nobody can read them at rev or later. */
	del = prep(st, "DELETE FROM kine WHERE id IN (SELECT prev_revision FROM kine"
		       " WHERE prev_revision != 0 AND id <= ?1)"
		       " OR (deleted != 0 AND id <= ?1)");
	meta = prep(st, "INSERT OR REPLACE INTO kine_meta (k, v) VALUES ('compact_rev', ?1)");
	rc = del && meta ? 0 : BL_STORE_IO;
	if (!rc) {
		sqlite3_bind_int64(del, 1, rev);
		sqlite3_bind_int64(meta, 1, rev);
		if (sqlite3_step(del) != SQLITE_DONE || sqlite3_step(meta) != SQLITE_DONE)
			rc = sq_fail(st, "compact");
	}
	sqlite3_finalize(del);
	sqlite3_finalize(meta);
	if (rc || exec(st, "COMMIT")) {
		exec(st, "ROLLBACK");
		return BL_STORE_IO;
	}
	st->compact_rev = rev;
	return 0;
}

/* Replays history after after_rev, then joins the live fan-out. */
static int sq_watch(struct bl_store *s, const char *prefix, int64_t after_rev, bl_watch_cb cb,
		    void *arg, struct bl_watch **out)
{
	struct sq_store *st = sq(s);
	sqlite3_stmt *stmt;
	char *end;
	int rc;

	*out = NULL;
	if (after_rev < st->compact_rev)
		return BL_STORE_COMPACTED;
	if (after_rev > st->rev)
		return BL_STORE_FUTURE;
	end = prefix_end(prefix);
	stmt = prep(st, "SELECT id, name, created, deleted,"
			" CASE WHEN created THEN id ELSE create_revision END,"
			" prev_revision, lease, value, old_value FROM kine"
			" WHERE name >= ?1 AND name < ?2 AND id > ?3 ORDER BY id");
	if (!stmt || !end) {
		free(end);
		sqlite3_finalize(stmt);
		return BL_STORE_IO;
	}
	sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, end, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, after_rev);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct bl_kv kv = {0}, prev = {0};
		struct bl_event ev = {BL_EV_PUT, &kv, NULL};
		int64_t prev_rev = sqlite3_column_int64(stmt, 5);

		kv.mod_rev = sqlite3_column_int64(stmt, 0);
		kv.key = (char *)sqlite3_column_text(stmt, 1);
		if (sqlite3_column_int(stmt, 3))
			ev.type = BL_EV_DELETE;
		kv.create_rev = sqlite3_column_int64(stmt, 4);
		kv.lease = sqlite3_column_int64(stmt, 6);
		kv.value = (char *)sqlite3_column_blob(stmt, 7);
		kv.len = (size_t)sqlite3_column_bytes(stmt, 7);
		if (!kv.value)
			kv.value = "";
		if (!sqlite3_column_int(stmt, 2) && prev_rev) {
			prev = (struct bl_kv){kv.key,
					      (char *)sqlite3_column_blob(stmt, 8),
					      (size_t)sqlite3_column_bytes(stmt, 8),
					      prev_rev,
					      kv.create_rev,
					      kv.lease};
			if (!prev.value)
				prev.value = "";
			ev.prev = &prev;
		}
		/* Blobs are not NUL-terminated: hand callbacks terminated copies. */
		kv.value = strndup(kv.value, kv.len);
		if (ev.prev)
			prev.value = strndup(prev.value, prev.len);
		cb(&ev, arg);
		free(kv.value);
		if (ev.prev)
			free(prev.value);
	}
	sqlite3_finalize(stmt);
	free(end);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "watch history");
	*out = bl_hub_add(&st->hub, prefix, st->rev, cb, arg);
	return *out ? 0 : BL_STORE_IO;
}

static void sq_unwatch(struct bl_store *s, struct bl_watch *w)
{
	bl_hub_remove(&sq(s)->hub, w);
}

static void sq_close(struct bl_store *s)
{
	struct sq_store *st = sq(s);

	bl_hub_clear(&st->hub);
	sqlite3_close(st->db);
	free(st);
}

static const struct bl_store_ops sq_ops = {
	.get = sq_get,
	.list = sq_list,
	.create = sq_create,
	.update = sq_update,
	.del = sq_del,
	.current_rev = sq_current_rev,
	.compact_rev = sq_compact_rev,
	.compact = sq_compact,
	.watch = sq_watch,
	.unwatch = sq_unwatch,
	.close = sq_close,
};

static int64_t scalar(struct sq_store *st, const char *sql)
{
	sqlite3_stmt *stmt = prep(st, sql);
	int64_t v = 0;

	if (stmt && sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

int bl_sqlite_store_open(const char *path, struct bl_store **out)
{
	struct sq_store *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st)
		return BL_STORE_IO;
	st->base.ops = &sq_ops;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		log_err("store: open %s: %s", path, sqlite3_errmsg(st->db));
		sqlite3_close(st->db);
		free(st);
		return BL_STORE_IO;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* WAL with synchronous=FULL: a commit is on disk when it returns, so neither kill -9
	 * nor a power cut loses an acknowledged write. */
	if (exec(st, "PRAGMA journal_mode=WAL") || exec(st, "PRAGMA synchronous=FULL") ||
	    exec(st, schema)) {
		sq_close(&st->base);
		return BL_STORE_IO;
	}
	/* sqlite_sequence survives deleting the newest rows, so revisions never go back */
	st->rev = scalar(st, "SELECT seq FROM sqlite_sequence WHERE name = 'kine'");
	st->compact_rev = scalar(st, "SELECT v FROM kine_meta WHERE k = 'compact_rev'");
	*out = &st->base;
	return 0;
}
