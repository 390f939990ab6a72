/* The informer's I/O: list pages, watch streams split into lines, backoff timers. */
#include "agent/kube/informer.h"

#include "agent/common/log.h"
#include "agent/kube/kube_client.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX_BYTES (256u << 20)
#define LINE_MAX_BYTES (16u << 20)
#define LIST_PAGE      "500"

struct bl_informer {
	struct event_base *base;
	struct bl_kube_client *c;
	char *path;
	struct bl_inf_state st;
	struct event *backoff;
	char *buf; /* list body, or the watch's unfinished line */
	size_t len, cap;
	bool too_big;
	unsigned long gen_seen;
	void (*changed)(void *arg);
	void *arg;
};

static const struct bl_kube_req_ops ops;

static double rnd(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

static void notify(struct bl_informer *inf)
{
	if (inf->st.generation != inf->gen_seen) {
		inf->gen_seen = inf->st.generation;
		inf->changed(inf->arg);
	}
}

/* a path may carry its own query (a fieldSelector) */
static char sep(const struct bl_informer *inf)
{
	return strchr(inf->path, '?') ? '&' : '?';
}

static void act(struct bl_informer *inf, struct bl_inf_step s)
{
	char p[4096];
	long timeout = 0;

	inf->len = 0;
	inf->too_big = false;
	if (s.what == BL_INF_WAIT) {
		struct timeval tv = {(time_t)s.delay,
				     (suseconds_t)((s.delay - (time_t)s.delay) * 1e6)};

		log_info("kube: %s: retrying in %.1f s", inf->path, s.delay);
		event_add(inf->backoff, &tv);
		return;
	}
	if (s.what == BL_INF_LIST) {
		char *cont = inf->st.cont ? curl_easy_escape(NULL, inf->st.cont, 0) : NULL;

		snprintf(p, sizeof(p), "%s%climit=" LIST_PAGE "%s%s", inf->path, sep(inf),
			 cont ? "&continue=" : "", cont ? cont : "");
		curl_free(cont);
		timeout = 60;
	} else if (s.what == BL_INF_WATCH) {
		/* spread the re-watches of many agents, as client-go does */
		long t = 300 + (long)(rnd() * 300);

		snprintf(p, sizeof(p),
			 "%s%cwatch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%"
			 "ld",
			 inf->path, sep(inf), inf->st.rv ? inf->st.rv : "", t);
		timeout = t + 30;
	} else {
		return;
	}
	if (!bl_kube_get(inf->c, p, timeout, &ops, inf))
		act(inf, bl_inf_done(&inf->st, 0, false, rnd()));
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
	struct bl_informer *inf = arg;

	(void)fd;
	(void)what;
	act(inf, bl_inf_backoff_done(&inf->st));
}

static bool append(struct bl_informer *inf, const char *p, size_t n, size_t max)
{
	if (inf->len + n + 1 > max)
		return false;
	if (inf->len + n + 1 > inf->cap) {
		size_t cap = inf->cap ? inf->cap : 65536;
		char *nb;

		while (cap < inf->len + n + 1)
			cap *= 2;
		nb = realloc(inf->buf, cap);
		if (!nb)
			return false;
		inf->buf = nb;
		inf->cap = cap;
	}
	memcpy(inf->buf + inf->len, p, n);
	inf->len += n;
	inf->buf[inf->len] = 0;
	return true;
}

/* Whole lines of a watch stream: one event each. False aborts the stream. */
static bool watch_lines(struct bl_informer *inf)
{
	size_t off = 0;
	char *nl;

	while ((nl = memchr(inf->buf + off, '\n', inf->len - off))) {
		size_t n = (size_t)(nl - (inf->buf + off));
		json_t *ev = n ? json_loadb(inf->buf + off, n, 0, NULL) : NULL;
		struct bl_inf_step s = {BL_INF_CONTINUE, 0};

		if (n)
			s = bl_inf_watch_event(&inf->st, ev);
		json_decref(ev);
		off += n + 1;
		if (s.what == BL_INF_ABORT) {
			notify(inf);
			return false;
		}
	}
	memmove(inf->buf, inf->buf + off, inf->len - off);
	inf->len -= off;
	notify(inf);
	return true;
}

static bool on_data(void *arg, long status, const char *p, size_t n)
{
	struct bl_informer *inf = arg;

	if (!inf->st.watching || status != 200) {
		/* list bodies and error statuses are read whole */
		if (!append(inf, p, n, LIST_MAX_BYTES)) {
			log_err("kube: %s: response larger than %u MiB", inf->path,
				LIST_MAX_BYTES >> 20);
			return false;
		}
		return true;
	}
	while (n) {
		size_t chunk = n;
		const char *nl = memchr(p, '\n', n);

		if (inf->too_big) {
			/* skipping an oversized event up to its newline */
			if (!nl)
				return true;
			chunk = (size_t)(nl - p) + 1;
			inf->too_big = false;
		} else if (!append(inf, p, chunk, LINE_MAX_BYTES)) {
			log_warn("kube: %s: watch event over %u MiB skipped", inf->path,
				 LINE_MAX_BYTES >> 20);
			inf->len = 0;
			inf->too_big = true;
			inf->st.bad_events++;
			continue;
		} else if (!watch_lines(inf)) {
			return false;
		}
		p += chunk;
		n -= chunk;
	}
	return true;
}

static void on_done(void *arg, long status, bool ok, const char *err)
{
	struct bl_informer *inf = arg;
	struct bl_inf_step s;

	if (!inf->st.watching && ok && status == 200) {
		unsigned long bad = inf->st.bad_events;

		s = bl_inf_list_text(&inf->st, inf->buf ? inf->buf : "", inf->len);
		if (s.what == BL_INF_WAIT && inf->st.bad_events > bad)
			log_warn("kube: %s: the list answer is not a list", inf->path);
		if (s.what == BL_INF_WATCH) {
			log_info("kube: %s: listed %zu objects at resourceVersion %s", inf->path,
				 json_object_size(inf->st.cache), inf->st.rv);
			/* a completed list is news even when it changed nothing: the
			 * source may now be synced */
			inf->gen_seen = inf->st.generation - 1;
		}
		notify(inf);
		act(inf, s);
		return;
	}
	if (!ok && !inf->st.abort_relist)
		log_warn("kube: %s: %s ended: %s", inf->path, inf->st.watching ? "watch" : "list",
			 err);
	else if (status != 200)
		log_warn("kube: %s: HTTP %ld: %.*s", inf->path, status,
			 (int)(inf->len > 300 ? 300 : inf->len), inf->buf ? inf->buf : "");
	if (inf->st.abort_relist || status == 410)
		log_info("kube: %s: resourceVersion %s expired, listing again", inf->path,
			 inf->st.rv ? inf->st.rv : "");
	act(inf, bl_inf_done(&inf->st, status, ok, rnd()));
}

static const struct bl_kube_req_ops ops = {.on_data = on_data, .on_done = on_done};

struct bl_informer *bl_informer_new(struct event_base *base, struct bl_kube_client *c,
				    const char *path, const char *kind, const char *api_version,
				    void (*changed)(void *arg), void *arg)
{
	struct bl_informer *inf = calloc(1, sizeof(*inf));

	if (!inf)
		return NULL;
	inf->base = base;
	inf->c = c;
	inf->path = strdup(path);
	inf->changed = changed;
	inf->arg = arg;
	bl_inf_init(&inf->st, kind, api_version);
	inf->backoff = evtimer_new(base, on_backoff, inf);
	if (!inf->path || !inf->backoff || !inf->st.cache) {
		bl_informer_free(inf);
		return NULL;
	}
	act(inf, bl_inf_start(&inf->st));
	return inf;
}

void bl_informer_free(struct bl_informer *inf)
{
	if (!inf)
		return;
	if (inf->backoff)
		event_free(inf->backoff);
	bl_inf_free(&inf->st);
	free(inf->path);
	free(inf->buf);
	free(inf);
}

const struct bl_inf_state *bl_informer_state(const struct bl_informer *inf)
{
	return &inf->st;
}

void bl_informer_compact(struct bl_informer *inf)
{
	inf->st.compact = true;
}

void bl_informer_on_change(struct bl_informer *inf,
			   void (*fn)(void *arg, const char *key, json_t *obj, json_t *stored),
			   void *arg)
{
	inf->st.on_change = fn;
	inf->st.change_arg = arg;
}

void bl_informer_on_list_item(struct bl_informer *inf,
			      void (*fn)(void *arg, const char *key, json_t *obj, json_t *stored))
{
	inf->st.on_list_item = fn;
}

const char *bl_informer_path(const struct bl_informer *inf)
{
	return inf->path;
}
