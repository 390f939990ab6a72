/*
 * The informer's protocol as a pure state machine (no sockets, no clock, no random):
 * list (with limit/continue) → watch from the list's resourceVersion with bookmarks →
 * resume from the last seen resourceVersion after a lost connection or a watch
 * timeout → relist only on 410 Gone (HTTP status or an ERROR event with code 410).
 * Failures back off exponentially with jitter. The cache (namespace/name → object)
 * is replaced only when a relist completes, so a relist never empties it midway.
 * The driver (informer.c) turns each step into an HTTP request or a timer.
 */
#ifndef BPFLET_INFORMER_STATE_H
#define BPFLET_INFORMER_STATE_H

#include <jansson.h>
#include <stdbool.h>

enum bl_inf_do {
	BL_INF_LIST,	 /* GET list?limit=..[&continue=cont] */
	BL_INF_WATCH,	 /* GET ?watch=1&resourceVersion=rv&allowWatchBookmarks=true */
	BL_INF_WAIT,	 /* back off for `delay` seconds, then call bl_inf_backoff_done */
	BL_INF_CONTINUE, /* keep reading the current watch stream */
	BL_INF_ABORT,	 /* stop the current stream; bl_inf_done follows */
};

struct bl_inf_step {
	enum bl_inf_do what;
	double delay; /* BL_INF_WAIT only */
};

struct bl_backoff {
	double base, cap; /* seconds: first delay and ceiling */
	double jitter;	  /* fraction taken off at random: delay * (1 - jitter * r) */
};

struct bl_inf_state {
	const char *kind, *api_version; /* set on list items (lists omit them) */
	struct bl_backoff bo;
	bool watching;	   /* the request in flight is a watch (else a list page) */
	bool relist;	   /* the next request after a wait is a list */
	bool synced;	   /* a full list completed at least once */
	char *rv;	   /* resume point */
	char *cont;	   /* continue token of the list in progress */
	json_t *cache;	   /* key → object */
	json_t *pending;   /* the list in progress */
	unsigned failures; /* consecutive, for the backoff */
	unsigned events_this_watch;
	bool abort_relist; /* the stream was aborted for an ERROR 410 */
	/* counters */
	unsigned long lists, watches, relists, restarts, events, bad_events;
	unsigned long generation; /* bumped when the cache's content changes */
	/* compact: the cache holds each object as its compact JSON text (a json
	 * string), a tenth of the memory of the parsed tree; readers parse on demand. */
	bool compact;
	/* Optional: told of every change before the cache takes it: obj is the new
	 * object as received, stored what the cache will hold for it (both NULL for a
	 * delete); key NULL after a completed list replaced the whole cache. */
	void (*on_change)(void *arg, const char *key, json_t *obj, json_t *stored);
	void *change_arg;
	/* Optional: each item of the list in progress as it arrives (key NULL: a list
	 * starts, forget the items told before), so an index can be built beside the
	 * new cache instead of parsing it all again once it is whole. */
	void (*on_list_item)(void *arg, const char *key, json_t *obj, json_t *stored);
};

void bl_inf_init(struct bl_inf_state *s, const char *kind, const char *api_version);
void bl_inf_free(struct bl_inf_state *s);
/* The first step: a list. */
struct bl_inf_step bl_inf_start(struct bl_inf_state *s);
/* A list page answered 200 with this body: the next page, or the watch. A page that
 * is not a list is a failure (backoff, the list restarts). */
struct bl_inf_step bl_inf_list_page(struct bl_inf_state *s, json_t *body);
/* The same from the page's text, one item parsed at a time (a page's tree is ten
 * times its text); a compact cache keeps each item's text as the server wrote it. */
struct bl_inf_step bl_inf_list_text(struct bl_inf_state *s, const char *text, size_t len);
/* One watch line parsed (NULL: not JSON). CONTINUE or ABORT. */
struct bl_inf_step bl_inf_watch_event(struct bl_inf_state *s, json_t *ev);
/* The request ended. status: HTTP status (0 when no response), transport_ok: the
 * transfer finished without error (a clean end of a watch is its timeout). */
struct bl_inf_step bl_inf_done(struct bl_inf_state *s, long status, bool transport_ok, double r01);
/* The backoff timer fired. */
struct bl_inf_step bl_inf_backoff_done(struct bl_inf_state *s);
/* The n-th consecutive failure's delay (n >= 1), r01 in [0, 1) the random draw. */
double bl_backoff_delay(const struct bl_backoff *b, unsigned n, double r01);
/* A cached value as an object: a new reference (compact caches parse the text),
 * NULL when the text does not parse. */
json_t *bl_inf_object(json_t *cached);
/* "namespace/name" or "name" into buf; false when metadata.name is missing. */
bool bl_inf_key(json_t *obj, char *buf, size_t len);

#endif
