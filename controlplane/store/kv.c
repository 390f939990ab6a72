#include "controlplane/store/store.h"

#include <stdlib.h>

const char *bl_store_strerror(int err)
{
	switch (err) {
	case BL_STORE_OK:
		return "ok";
	case BL_STORE_NOT_FOUND:
		return "key not found";
	case BL_STORE_EXISTS:
		return "key already exists";
	case BL_STORE_CONFLICT:
		return "revision conflict";
	case BL_STORE_COMPACTED:
		return "required revision has been compacted";
	case BL_STORE_FUTURE:
		return "required revision is a future revision";
	default:
		return "storage error";
	}
}

void bl_kv_free(struct bl_kv *kv)
{
	if (!kv)
		return;
	free(kv->key);
	free(kv->value);
	kv->key = NULL;
	kv->value = NULL;
}

void bl_kv_list_free(struct bl_kv_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		bl_kv_free(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
