/* In-process fan-out of committed changes to watchers; shared by every store backend. */
#ifndef BPFLET_WATCH_HUB_H
#define BPFLET_WATCH_HUB_H

#include "controlplane/store/store.h"

struct bl_watch {
	char *prefix;
	size_t plen;
	int64_t after; /* already delivered up to here (history replay) */
	bl_watch_cb cb;
	void *arg;
	bool dead; /* unwatched during a dispatch; freed when the dispatch ends */
	struct bl_watch *prev, *next;
};

struct bl_watch_hub {
	struct bl_watch *head;
	int depth; /* nested publishes in progress */
	size_t count;
};

struct bl_watch *bl_hub_add(struct bl_watch_hub *h, const char *prefix, int64_t after,
			    bl_watch_cb cb, void *arg);
void bl_hub_remove(struct bl_watch_hub *h, struct bl_watch *w);
void bl_hub_publish(struct bl_watch_hub *h, const struct bl_event *ev);
void bl_hub_clear(struct bl_watch_hub *h);

#endif
