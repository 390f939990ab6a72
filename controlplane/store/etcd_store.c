/* etcd backend through etcd v3's JSON gateway (libcurl + jansson). Reads and writes are
 * plain HTTP POSTs on the event loop's thread. One long watch on every key ("/" on)
 * runs on a thread of its own and hands events to the loop through a pipe; the loop
 * fans them out and keeps a bounded window of recent events to replay to watchers that
 * start from an older revision (older than the window: COMPACTED, clients relist, as
 * with kube-apiserver's watch cache). A write returns once its own event came back, so
 * a client that writes and then lists or watches always sees its write. */
#include "controlplane/store/etcd_json.h"
#include "controlplane/store/store.h"
#include "controlplane/store/watch_hub.h"
#include "agent/common/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH_ROOT    "/"
#define WINDOW	      16384 /* events kept for replay */
#define WRITE_WAIT_MS 5000  /* longest a write waits for its own event */

struct stored_ev {
	enum bl_event_type type;
	struct bl_kv kv, prev;
	bool has_prev;
	struct stored_ev *next;
};

struct buf {
	char *p;
	size_t n;
};

struct et_store {
	struct bl_store base;
	char **urls;
	size_t nurls, cur;
	CURL *curl; /* the loop thread's */
	struct bl_watch_hub hub;
	int64_t delivered; /* last revision fanned out */
	int64_t floor;	   /* events after floor are in the window */
	struct stored_ev *win[WINDOW];
	size_t win_head, win_n; /* oldest at win_head */
	struct event *wake_ev;
	int pipefd[2];

	/* shared with the watch thread */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stored_ev *q_head, **q_tail;
	int64_t recv_rev; /* newest revision the thread has queued */
	int64_t lost_to;  /* the watch was compacted past events up to here */
	volatile bool stop;
	bool restart; /* a write's event did not come back: reconnect (atomic) */
};

static struct et_store *et(struct bl_store *s)
{
	return (struct et_store *)s;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	size_t n = sz * nm;
	char *np = realloc(b->p, b->n + n + 1);

	if (!np)
		return 0;
	memcpy(np + b->n, p, n);
	b->n += n;
	np[b->n] = '\0';
	b->p = np;
	return n;
}

static void setup_post(CURL *c, const char *url, const char *body, struct curl_slist *hdrs)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
}

/* POST req to path on the first member that answers; *resp is the JSON body. */
static int post(struct et_store *st, const char *path, json_t *req, json_t **resp)
{
	char *body = json_dumps(req, JSON_COMPACT);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	int rc = BL_STORE_IO;

	*resp = NULL;
	json_decref(req);
	for (size_t i = 0; body && i < st->nurls; i++) {
		const char *base = st->urls[(st->cur + i) % st->nurls];
		struct buf b = {0};
		char url[512];
		long status = 0;
		CURLcode cc;

		snprintf(url, sizeof(url), "%s%s", base, path);
		curl_easy_reset(st->curl);
		setup_post(st->curl, url, body, hdrs);
		curl_easy_setopt(st->curl, CURLOPT_TIMEOUT_MS, 15000L);
		curl_easy_setopt(st->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(st->curl, CURLOPT_WRITEDATA, &b);
		cc = curl_easy_perform(st->curl);
		if (cc != CURLE_OK) {
			log_warn("etcd %s: %s", url, curl_easy_strerror(cc));
			free(b.p);
			continue; /* next member */
		}
		st->cur = (st->cur + i) % st->nurls;
		curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
		*resp = b.p ? json_loads(b.p, 0, NULL) : NULL;
		rc = bl_etcd_error((int)status, *resp);
		if (rc)
			log_debug("etcd %s: HTTP %ld %s", url, status, b.p ? b.p : "");
		free(b.p);
		break;
	}
	curl_slist_free_all(hdrs);
	free(body);
	if (rc) {
		json_decref(*resp);
		*resp = NULL;
	}
	return rc;
}

/* ---- the watch thread ---- */

struct wctx {
	struct et_store *st;
	struct buf line;
	int64_t last; /* newest revision queued */
};

static void queue_event(const struct bl_event *ev, void *arg)
{
	struct wctx *w = arg;
	struct et_store *st = w->st;
	struct stored_ev *s = calloc(1, sizeof(*s));

	if (!s)
		return;
	s->type = ev->type;
	s->kv = (struct bl_kv){strdup(ev->kv->key), strndup(ev->kv->value, ev->kv->len),
			       ev->kv->len,	    ev->kv->mod_rev,
			       ev->kv->create_rev,  ev->kv->lease};
	if (ev->prev) {
		s->has_prev = true;
		s->prev = (struct bl_kv){
			strdup(ev->prev->key), strndup(ev->prev->value, ev->prev->len),
			ev->prev->len,	       ev->prev->mod_rev,
			ev->prev->create_rev,  ev->prev->lease};
	}
	pthread_mutex_lock(&st->lock);
	*st->q_tail = s;
	st->q_tail = &s->next;
	pthread_mutex_unlock(&st->lock);
	if (ev->kv->mod_rev > w->last)
		w->last = ev->kv->mod_rev;
}

static void wake(struct et_store *st, int64_t rev)
{
	char c = 1;

	pthread_mutex_lock(&st->lock);
	if (rev > st->recv_rev)
		st->recv_rev = rev;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	if (write(st->pipefd[1], &c, 1) < 0 && errno != EAGAIN)
		log_warn("etcd watch: wake pipe: %s", strerror(errno));
}

static size_t on_watch_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct wctx *w = arg;
	size_t n = sz * nm;
	char *nl;

	if (!on_body(p, sz, nm, &w->line))
		return 0;
	/* the gateway sends one JSON object per line */
	while ((nl = memchr(w->line.p, '\n', w->line.n))) {
		size_t len = (size_t)(nl - w->line.p);
		json_t *j = json_loadb(w->line.p, len, 0, NULL);
		int64_t rev = 0, crev = 0;
		int rc = j ? bl_etcd_watch_decode(j, queue_event, w, &rev, &crev) : BL_STORE_IO;
		const char *why;

		memmove(w->line.p, nl + 1, w->line.n - len - 1);
		w->line.n -= len + 1;
		if (rc == BL_STORE_COMPACTED) {
			log_err("etcd watch: events up to revision %lld were compacted before "
				"they were read; watchers from before then must relist",
				(long long)crev);
			pthread_mutex_lock(&w->st->lock);
			w->st->lost_to = crev;
			pthread_mutex_unlock(&w->st->lock);
			w->last = crev - 1;
			json_decref(j);
			return 0; /* restart from the compaction point */
		}
		if (rc)
			log_warn("etcd watch: malformed response skipped");
		if (j && bl_etcd_watch_canceled(j, &why)) {
			log_warn("etcd watch: canceled by etcd (%s); watching again", why);
			json_decref(j);
			return 0; /* the stream stays open but would bring nothing more */
		}
		json_decref(j);
		wake(w->st, w->last);
	}
	return n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	struct et_store *st = arg;

	return st->stop || __atomic_load_n(&st->restart, __ATOMIC_RELAXED);
}

static void *watch_thread(void *arg)
{
	struct wctx w = {.st = arg};
	struct et_store *st = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	size_t member;

	pthread_mutex_lock(&st->lock);
	w.last = st->recv_rev;
	member = st->cur;
	pthread_mutex_unlock(&st->lock);
	while (c && !st->stop) {
		json_t *req = bl_etcd_watch_req(WATCH_ROOT, w.last + 1);
		char *body = json_dumps(req, JSON_COMPACT);
		char url[512];
		CURLcode cc;

		json_decref(req);
		snprintf(url, sizeof(url), "%s/v3/watch", st->urls[member % st->nurls]);
		curl_easy_reset(c);
		setup_post(c, url, body, hdrs);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_watch_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, st);
		w.line.n = 0;
		cc = curl_easy_perform(c);
		free(body);
		if (st->stop)
			break;
		if (__atomic_exchange_n(&st->restart, false, __ATOMIC_RELAXED)) {
			/* same member, at once: the stream was open but silent */
			log_warn("etcd watch on %s restarted from revision %lld", url,
				 (long long)w.last + 1);
			continue;
		}
		log_warn("etcd watch on %s ended (%s); resuming from revision %lld", url,
			 curl_easy_strerror(cc), (long long)w.last + 1);
		member++;
		usleep(200 * 1000);
	}
	free(w.line.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return NULL;
}

/* ---- fan-out on the loop thread ---- */

static void stored_free(struct stored_ev *s)
{
	bl_kv_free(&s->kv);
	bl_kv_free(&s->prev);
	free(s);
}

static void publish(struct et_store *st, struct stored_ev *s)
{
	struct bl_event ev = {s->type, &s->kv, s->has_prev ? &s->prev : NULL};

	if (s->kv.mod_rev <= st->delivered) { /* a replay after a reconnect */
		stored_free(s);
		return;
	}
	st->delivered = s->kv.mod_rev;
	if (st->win_n == WINDOW) {
		struct stored_ev *old = st->win[st->win_head];

		st->floor = old->kv.mod_rev;
		stored_free(old);
		st->win_head = (st->win_head + 1) % WINDOW;
		st->win_n--;
	}
	st->win[(st->win_head + st->win_n++) % WINDOW] = s;
	bl_hub_publish(&st->hub, &ev);
}

static void drain(struct et_store *st)
{
	struct stored_ev *list, *next;
	int64_t lost;

	pthread_mutex_lock(&st->lock);
	list = st->q_head;
	st->q_head = NULL;
	st->q_tail = &st->q_head;
	lost = st->lost_to;
	pthread_mutex_unlock(&st->lock);
	if (lost > st->floor)
		st->floor = lost;
	for (; list; list = next) {
		next = list->next;
		publish(st, list);
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	char b[256];

	(void)what;
	while (read(fd, b, sizeof(b)) > 0)
		;
	drain(arg);
}

/* Waits until the watch brought rev back, then fans it out. */
static void wait_rev(struct et_store *st, int64_t rev)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WRITE_WAIT_MS / 1000;
	pthread_mutex_lock(&st->lock);
	while (st->recv_rev < rev) {
		if (pthread_cond_timedwait(&st->cond, &st->lock, &dl) == ETIMEDOUT) {
			/* a watch that is connected but silent would make every later
			 * write wait this long too: have the thread watch again from
			 * what it has, which brings rev if etcd has it */
			log_warn("etcd: the watch has not brought revision %lld back in %d ms; "
				 "watching again",
				 (long long)rev, WRITE_WAIT_MS);
			__atomic_store_n(&st->restart, true, __ATOMIC_RELAXED);
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	drain(st);
}

/* ---- ops ---- */

static int et_get(struct bl_store *s, const char *key, int64_t rev, struct bl_kv *out)
{
	json_t *resp;
	int rc = post(et(s), "/v3/kv/range", bl_etcd_range_req(key, NULL, rev, 0), &resp);
	json_t *kvs = json_object_get(resp, "kvs");

	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = json_array_size(kvs) ? bl_etcd_kv_decode(json_array_get(kvs, 0), out)
					  : BL_STORE_NOT_FOUND;
	json_decref(resp);
	return rc;
}

static int et_list(struct bl_store *s, const char *prefix, const char *start_after, int64_t rev,
		   size_t limit, struct bl_kv_list *out)
{
	struct et_store *st = et(s);
	json_t *resp, *kvs, *kv;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	drain(st);
	if (!rev)
		rev = st->delivered; /* the revision watchers have seen everything up to */
	rc = post(st, "/v3/kv/range", bl_etcd_list_req(prefix, start_after, rev, (int64_t)limit),
		  &resp);
	if (rc)
		return rc;
	kvs = json_object_get(resp, "kvs");
	out->items = calloc(json_array_size(kvs) + 1, sizeof(*out->items));
	if (!out->items) {
		json_decref(resp);
		return BL_STORE_IO;
	}
	json_array_foreach(kvs, i, kv)
	{
		if (bl_etcd_kv_decode(kv, &out->items[out->n])) {
			rc = BL_STORE_IO;
			break;
		}
		out->n++;
	}
	out->rev = rev;
	out->more = json_is_true(json_object_get(resp, "more"));
	json_decref(resp);
	if (rc)
		bl_kv_list_free(out);
	return rc;
}

static int txn(struct et_store *st, enum bl_etcd_txn_kind kind, const char *key, const char *val,
	       size_t len, int64_t lease, int64_t expect_rev, int64_t *rev, struct bl_kv *prev)
{
	json_t *resp;
	int64_t r = 0;
	int rc = post(st, "/v3/kv/txn", bl_etcd_txn_req(kind, key, val, len, lease, expect_rev),
		      &resp);

	if (!rc)
		rc = bl_etcd_txn_result(kind, resp, expect_rev, &r, prev);
	json_decref(resp);
	if (rc)
		return rc;
	if (rev)
		*rev = r;
	if (key[0] == WATCH_ROOT[0])
		wait_rev(st, r);
	return 0;
}

static int et_create(struct bl_store *s, const char *key, const char *val, size_t len,
		     int64_t lease, int64_t *rev)
{
	return txn(et(s), BL_ETCD_CREATE, key, val, len, lease, 0, rev, NULL);
}

static int et_update(struct bl_store *s, const char *key, const char *val, size_t len,
		     int64_t expect_rev, int64_t *rev)
{
	return txn(et(s), BL_ETCD_UPDATE, key, val, len, 0, expect_rev, rev, NULL);
}

static int et_del(struct bl_store *s, const char *key, int64_t expect_rev, int64_t *rev,
		  struct bl_kv *prev)
{
	struct bl_kv p;
	int rc = txn(et(s), BL_ETCD_DELETE, key, NULL, 0, 0, expect_rev, rev, &p);

	if (prev)
		*prev = p;
	else
		bl_kv_free(&p);
	if (rc && prev)
		memset(prev, 0, sizeof(*prev));
	return rc;
}

static int64_t et_current_rev(struct bl_store *s)
{
	drain(et(s));
	return et(s)->delivered;
}

static int64_t et_compact_rev(struct bl_store *s)
{
	return et(s)->floor;
}

static int et_compact(struct bl_store *s, int64_t rev)
{
	struct et_store *st = et(s);
	json_t *resp;
	int rc;

	if (rev <= st->floor)
		return 0;
	rc = post(st, "/v3/kv/compaction", json_pack("{s:I}", "revision", (json_int_t)rev), &resp);
	json_decref(resp);
	/* another control plane on the same etcd may have compacted further already */
	if (rc && rc != BL_STORE_COMPACTED)
		return rc;
	st->floor = rev;
	while (st->win_n && st->win[st->win_head]->kv.mod_rev <= rev) {
		stored_free(st->win[st->win_head]);
		st->win_head = (st->win_head + 1) % WINDOW;
		st->win_n--;
	}
	return 0;
}

static int et_watch(struct bl_store *s, const char *prefix, int64_t after_rev, bl_watch_cb cb,
		    void *arg, struct bl_watch **out)
{
	struct et_store *st = et(s);
	size_t plen = strlen(prefix);

	*out = NULL;
	drain(st);
	if (after_rev < st->floor)
		return BL_STORE_COMPACTED;
	for (size_t i = 0; i < st->win_n; i++) {
		struct stored_ev *e = st->win[(st->win_head + i) % WINDOW];
		struct bl_event ev = {e->type, &e->kv, e->has_prev ? &e->prev : NULL};

		if (e->kv.mod_rev > after_rev && !strncmp(e->kv.key, prefix, plen))
			cb(&ev, arg);
	}
	*out = bl_hub_add(&st->hub, prefix, after_rev > st->delivered ? after_rev : st->delivered,
			  cb, arg);
	return *out ? 0 : BL_STORE_IO;
}

static void et_unwatch(struct bl_store *s, struct bl_watch *w)
{
	bl_hub_remove(&et(s)->hub, w);
}

static void et_close(struct bl_store *s)
{
	struct et_store *st = et(s);
	struct stored_ev *q, *next;

	st->stop = true;
	if (st->thread_started)
		pthread_join(st->thread, NULL);
	if (st->wake_ev)
		event_free(st->wake_ev);
	bl_hub_clear(&st->hub);
	for (q = st->q_head; q; q = next) {
		next = q->next;
		stored_free(q);
	}
	for (size_t i = 0; i < st->win_n; i++)
		stored_free(st->win[(st->win_head + i) % WINDOW]);
	for (size_t i = 0; i < st->nurls; i++)
		free(st->urls[i]);
	free(st->urls);
	if (st->curl)
		curl_easy_cleanup(st->curl);
	if (st->pipefd[0] >= 0) {
		close(st->pipefd[0]);
		close(st->pipefd[1]);
	}
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	free(st);
}

static const struct bl_store_ops et_ops = {
	.get = et_get,
	.list = et_list,
	.create = et_create,
	.update = et_update,
	.del = et_del,
	.current_rev = et_current_rev,
	.compact_rev = et_compact_rev,
	.compact = et_compact,
	.watch = et_watch,
	.unwatch = et_unwatch,
	.close = et_close,
};

static int split_urls(struct et_store *st, const char *servers)
{
	char *copy = strdup(servers), *save = NULL, *tok;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);
		char **urls;

		while (n && tok[n - 1] == '/')
			tok[--n] = '\0';
		if (!n || (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8)))
			continue;
		urls = realloc(st->urls, (st->nurls + 1) * sizeof(*urls));
		if (!urls)
			break;
		st->urls = urls;
		st->urls[st->nurls++] = strdup(tok);
	}
	free(copy);
	return st->nurls ? 0 : -1;
}

int bl_etcd_store_open(const char *servers, struct event_base *base, struct bl_store **out)
{
	struct et_store *st = calloc(1, sizeof(*st));
	json_t *resp;

	*out = NULL;
	if (!st)
		return BL_STORE_IO;
	st->base.ops = &et_ops;
	st->pipefd[0] = st->pipefd[1] = -1;
	st->q_tail = &st->q_head;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (split_urls(st, servers)) {
		log_err("--etcd-servers %s: expected http(s)://HOST:PORT[,...]", servers);
		goto fail;
	}
	st->curl = curl_easy_init();
	if (!st->curl || pipe2(st->pipefd, O_NONBLOCK | O_CLOEXEC))
		goto fail;
	/* where the watch starts: the revision etcd is at now */
	if (post(st, "/v3/kv/range", bl_etcd_range_req(WATCH_ROOT, NULL, 0, 1), &resp)) {
		log_err("etcd at %s does not answer", servers);
		goto fail;
	}
	st->delivered = st->floor = st->recv_rev =
		bl_etcd_int(json_object_get(resp, "header"), "revision");
	json_decref(resp);
	st->wake_ev = event_new(base, st->pipefd[0], EV_READ | EV_PERSIST, on_wake, st);
	if (!st->wake_ev || event_add(st->wake_ev, NULL))
		goto fail;
	if (pthread_create(&st->thread, NULL, watch_thread, st))
		goto fail;
	st->thread_started = true;
	log_info("store: etcd at %s, revision %lld", servers, (long long)st->delivered);
	*out = &st->base;
	return 0;
fail:
	et_close(&st->base);
	return BL_STORE_IO;
}
