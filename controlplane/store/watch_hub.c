#include "controlplane/store/watch_hub.h"

#include <stdlib.h>
#include <string.h>
#include <utlist.h>

struct bl_watch *bl_hub_add(struct bl_watch_hub *h, const char *prefix, int64_t after,
			    bl_watch_cb cb, void *arg)
{
	struct bl_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->prefix = strdup(prefix);
	if (!w->prefix) {
		free(w);
		return NULL;
	}
	w->plen = strlen(prefix);
	w->after = after;
	w->cb = cb;
	w->arg = arg;
	DL_APPEND(h->head, w);
	h->count++;
	return w;
}

static void sweep(struct bl_watch_hub *h)
{
	struct bl_watch *w, *tmp;

	DL_FOREACH_SAFE(h->head, w, tmp)
	{
		if (!w->dead)
			continue;
		DL_DELETE(h->head, w);
		free(w->prefix);
		free(w);
	}
}

void bl_hub_remove(struct bl_watch_hub *h, struct bl_watch *w)
{
	if (!w || w->dead)
		return;
	w->dead = true;
	h->count--;
	/* A dispatch may be walking the list: only unlink once nobody is. */
	if (h->depth == 0)
		sweep(h);
}

void bl_hub_publish(struct bl_watch_hub *h, const struct bl_event *ev)
{
	struct bl_watch *w;

	h->depth++;
	/* Watchers added during this dispatch are appended and reached too: their start
	 * revision keeps them from seeing an event their history replay already had. */
	DL_FOREACH(h->head, w)
	{
		if (w->dead || ev->kv->mod_rev <= w->after ||
		    strncmp(ev->kv->key, w->prefix, w->plen) != 0)
			continue;
		w->cb(ev, w->arg);
	}
	if (--h->depth == 0)
		sweep(h);
}

void bl_hub_clear(struct bl_watch_hub *h)
{
	struct bl_watch *w;

	DL_FOREACH(h->head, w)
	w->dead = true;
	h->count = 0;
	if (h->depth == 0)
		sweep(h);
}
