/* FNV-1a (a published hash), shared by the compiler's ids and the batch writer's split. */
#ifndef BPFLET_AGENT_COMMON_FNV_H
#define BPFLET_AGENT_COMMON_FNV_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a, 32 bits, over n bytes: a cheap, stable hash for ids and for spreading work. */
static inline uint32_t bl_fnv1a32(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

#endif
