/* admin.kubeconfig: JSON (a YAML subset kubectl reads) with the PEM data embedded. */
#include "controlplane/apiserver/pki.h"
#include "agent/common/log.h"

#include <fcntl.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file's bytes in base64, as kubeconfig's *-data fields want them. */
static json_t *file_b64(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned char buf[16384];
	unsigned char *out;
	size_t n;
	json_t *s;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock(out, buf, (int)n);
	s = json_string((char *)out);
	free(out);
	return s;
}

int bl_kubeconfig_write(const char *path, const struct bl_pki *pki, const char *host, int port)
{
	char server[300], tmp[600];
	json_t *cfg;
	int fd, rc;

	/* a wildcard listen address is reached on loopback */
	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		host = "127.0.0.1";
	snprintf(server, sizeof(server), "https://%s:%d", host, port);
	cfg = json_pack("{s:s, s:s, s:[{s:s, s:{s:s, s:o*}}], s:[{s:s, s:{s:o*, s:o*}}],"
			" s:[{s:s, s:{s:s, s:s}}], s:s, s:{}}",
			"apiVersion", "v1", "kind", "Config", "clusters", "name", "bpflet",
			"cluster", "server", server, "certificate-authority-data",
			file_b64(pki->ca_crt), "users", "name", "admin", "user",
			"client-certificate-data", file_b64(pki->admin_crt), "client-key-data",
			file_b64(pki->admin_key), "contexts", "name", "bpflet", "context",
			"cluster", "bpflet", "user", "admin", "current-context", "bpflet",
			"preferences");
	if (!cfg) {
		log_err("kubeconfig: cannot read the certificates in %s", pki->ca_crt);
		return -1;
	}
	/* write then rename: a reader never sees half a file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	rc = fd >= 0 ? json_dumpfd(cfg, fd, JSON_INDENT(2)) : -1;
	if (fd >= 0 && (write(fd, "\n", 1) != 1 || close(fd) != 0))
		rc = -1;
	json_decref(cfg);
	if (rc || rename(tmp, path) != 0) {
		log_err("kubeconfig: cannot write %s: %m", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
