/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bob Jenkins' lookup3 hash ("hashword" over 32-bit words), written from the
 * published algorithm. Shared by the BPF programs (flow hash for Maglev) and
 * userspace (Maglev permutations, tests), so every node computes the same values.
 */
#ifndef BPFLET_JHASH_H
#define BPFLET_JHASH_H

#include <linux/types.h>

#define BPFLET_JHASH_INIT 0xdeadbeefu
/* Fixed seed of the flow hash: identical on every node, so a flow maps to the same
 * Maglev slot wherever it lands. */
#define BPFLET_FLOW_HASH_SEED 0x6270666cu /* "bpfl" */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define bl_be32_to_host(x) __builtin_bswap32(x)
#define bl_be16_to_host(x) __builtin_bswap16(x)
#else
#define bl_be32_to_host(x) (x)
#define bl_be16_to_host(x) (x)
#endif

static inline __u32 bl_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define BL_JHASH_MIX(a, b, c)                                                                      \
	do {                                                                                       \
		a -= c;                                                                            \
		a ^= bl_rol32(c, 4);                                                               \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= bl_rol32(a, 6);                                                               \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= bl_rol32(b, 8);                                                               \
		b += a;                                                                            \
		a -= c;                                                                            \
		a ^= bl_rol32(c, 16);                                                              \
		c += b;                                                                            \
		b -= a;                                                                            \
		b ^= bl_rol32(a, 19);                                                              \
		a += c;                                                                            \
		c -= b;                                                                            \
		c ^= bl_rol32(b, 4);                                                               \
		b += a;                                                                            \
	} while (0)

#define BL_JHASH_FINAL(a, b, c)                                                                    \
	do {                                                                                       \
		c ^= b;                                                                            \
		c -= bl_rol32(b, 14);                                                              \
		a ^= c;                                                                            \
		a -= bl_rol32(c, 11);                                                              \
		b ^= a;                                                                            \
		b -= bl_rol32(a, 25);                                                              \
		c ^= b;                                                                            \
		c -= bl_rol32(b, 16);                                                              \
		a ^= c;                                                                            \
		a -= bl_rol32(c, 4);                                                               \
		b ^= a;                                                                            \
		b -= bl_rol32(a, 14);                                                              \
		c ^= b;                                                                            \
		c -= bl_rol32(b, 24);                                                              \
	} while (0)

/* lookup3's hashword() over n words (n known at compile time in BPF callers). */
static inline __u32 bl_jhash_words(const __u32 *k, __u32 n, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = BPFLET_JHASH_INIT + (n << 2) + seed;
	while (n > 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		BL_JHASH_MIX(a, b, c);
		n -= 3;
		k += 3;
	}
	switch (n) {
	case 3:
		c += k[2];
		/* fallthrough */
	case 2:
		b += k[1];
		/* fallthrough */
	case 1:
		a += k[0];
		BL_JHASH_FINAL(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

/* The flow hash of an IPv4 5-tuple as it is on the wire (addresses and ports in
 * network order; each word is converted to host order first, so big- and
 * little-endian nodes agree). */
static inline __u32 bl_flow_hash4(__u32 saddr, __u32 daddr, __u16 sport, __u16 dport, __u8 proto)
{
	__u32 w[4];

	w[0] = bl_be32_to_host(saddr);
	w[1] = bl_be32_to_host(daddr);
	w[2] = ((__u32)bl_be16_to_host(sport) << 16) | bl_be16_to_host(dport);
	w[3] = proto;
	return bl_jhash_words(w, 4, BPFLET_FLOW_HASH_SEED);
}

#endif
