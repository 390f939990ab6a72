/* The host side of a pod's veth is named from what the runtime repeats on every call
 * (container id and ifname), so DEL and CHECK find it without any stored state. */
#include "agent/cni/cni.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void cni_host_ifname(const char *container_id, const char *ifname, char out[16])
{
	unsigned char md[EVP_MAX_MD_SIZE] = {0};
	char key[sizeof(((struct cni_env *)0)->container_id) + 1 + 16];
	int n = snprintf(key, sizeof(key), "%s/%s", container_id, ifname);

	if (n < 0 || (size_t)n >= sizeof(key))
		n = (int)strlen(key);
	EVP_Digest(key, (size_t)n, md, NULL, EVP_sha256(), NULL);
	/* 44 bits: a collision among one node's pods is out of reach */
	snprintf(out, 16, "bl%02x%02x%02x%02x%02x%x", md[0], md[1], md[2], md[3], md[4],
		 md[5] >> 4);
}
