/* kubeconfig and in-cluster configuration → one struct bl_kube_config. */
#include "agent/kube/kubeconfig.h"

#include "agent/manifests/yaml_json.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KUBECONFIG_MAX_BYTES (4u << 20)
#define TOKEN_MAX_BYTES	     (64u << 10)

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Whole file into a NUL-terminated buffer, at most max bytes. */
static int slurp(const char *path, size_t max, struct bl_kube_blob *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, off = 0;
	char *buf;
	ssize_t r;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	while (buf) {
		if (off + 1 >= cap) {
			char *nb = cap > max ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				close(fd);
				return cap > max ? -EFBIG : -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + off, cap - off - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (off > max) {
		free(buf);
		return -EFBIG;
	}
	buf[off] = 0;
	out->data = buf;
	out->len = off;
	return 0;
}

/* base64 (kubeconfig's *-data fields) through OpenSSL; newlines inside are allowed. */
static int b64_decode(const char *in, struct bl_kube_blob *out)
{
	size_t n = strlen(in);
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *buf = malloc(n / 4 * 3 + 4);
	int l1 = 0, l2 = 0, rc = -EINVAL;

	if (!ctx || !buf) {
		rc = -ENOMEM;
		goto out;
	}
	EVP_DecodeInit(ctx);
	if (n > 0x7fffffff ||
	    EVP_DecodeUpdate(ctx, buf, &l1, (const unsigned char *)in, (int)n) < 0 ||
	    EVP_DecodeFinal(ctx, buf + l1, &l2) < 0)
		goto out;
	if (l1 + l2 == 0)
		goto out;
	buf[l1 + l2] = 0;
	out->data = (char *)buf;
	out->len = (size_t)(l1 + l2);
	buf = NULL;
	rc = 0;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(buf);
	return rc;
}

static char *resolve(const char *dir, const char *path)
{
	char *p;

	if (path[0] == '/' || !dir)
		return strdup(path);
	if (asprintf(&p, "%s/%s", dir, path) < 0)
		return NULL;
	return p;
}

/* A string field, or NULL when absent; a present non-string is an error. */
static int str_field(json_t *o, const char *key, const char **out, const char *where, char *err,
		     size_t errlen)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, errlen, -EINVAL, "%s.%s must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

/* The entry of list `key` named `name` ({name: ..., <field>: {...}}). */
static int named(json_t *root, const char *key, const char *field, const char *name, json_t **out,
		 char *err, size_t errlen)
{
	json_t *list = json_object_get(root, key), *e;
	size_t i;

	*out = NULL;
	if (list && !json_is_array(list))
		return fail(err, errlen, -EINVAL, "%s must be a list", key);
	json_array_foreach(list, i, e)
	{
		json_t *n = json_object_get(e, "name");

		if (!json_is_object(e) || !json_is_string(n))
			return fail(err, errlen, -EINVAL, "%s[%zu] has no name", key, i);
		if (strcmp(json_string_value(n), name))
			continue;
		*out = json_object_get(e, field);
		if (!json_is_object(*out))
			return fail(err, errlen, -EINVAL, "%s \"%s\" has no %s mapping", key, name,
				    field);
		return 0;
	}
	return fail(err, errlen, -ENOENT, "%s \"%s\" not found", field, name);
}

/* `<base>-data` (base64) wins over `<base>` (a path), as in kubectl. */
static int blob_field(json_t *o, const char *base, const char *dir, const char *where,
		      struct bl_kube_blob *out, char *err, size_t errlen)
{
	char key[64];
	const char *data, *path;
	int rc;

	snprintf(key, sizeof(key), "%s-data", base);
	if ((rc = str_field(o, key, &data, where, err, errlen)) ||
	    (rc = str_field(o, base, &path, where, err, errlen)))
		return rc;
	if (data) {
		rc = b64_decode(data, out);
		if (rc)
			return fail(err, errlen, rc, "%s.%s is not valid base64", where, key);
		return 0;
	}
	if (path) {
		char *full = resolve(dir, path);

		if (!full)
			return -ENOMEM;
		rc = slurp(full, KUBECONFIG_MAX_BYTES, out);
		if (rc)
			fail(err, errlen, rc, "%s.%s: cannot read %s: %s", where, base, full,
			     strerror(-rc));
		free(full);
		return rc;
	}
	return 0;
}

static int dup_str(char **dst, const char *s)
{
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -ENOMEM : 0;
}

static int parse_cluster(json_t *cl, const char *dir, struct bl_kube_config *c, char *err,
			 size_t errlen)
{
	char where[300];
	const char *server;
	json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
	size_t n;
	int rc;

	snprintf(where, sizeof(where), "cluster \"%s\"", c->cluster);
	if ((rc = str_field(cl, "server", &server, where, err, errlen)))
		return rc;
	if (!server || !*server)
		return fail(err, errlen, -EINVAL, "%s has no server", where);
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7))
		return fail(err, errlen, -EINVAL, "%s: server \"%s\" is not an http(s) URL", where,
			    server);
	if (insecure && !json_is_boolean(insecure))
		return fail(err, errlen, -EINVAL,
			    "%s.insecure-skip-tls-verify must be true or false", where);
	c->insecure = json_is_true(insecure);
	if ((rc = dup_str(&c->server, server)))
		return rc;
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = 0;
	return blob_field(cl, "certificate-authority", dir, where, &c->ca, err, errlen);
}

static int parse_user(json_t *u, const char *dir, struct bl_kube_config *c, char *err,
		      size_t errlen)
{
	char where[300];
	const char *token, *token_file;
	int rc;

	snprintf(where, sizeof(where), "user \"%s\"", c->user);
	if (json_object_get(u, "exec") || json_object_get(u, "auth-provider"))
		return fail(err, errlen, -ENOTSUP,
			    "%s uses a credential plugin (exec/auth-provider), which bpflet does "
			    "not run; use a client certificate or a token",
			    where);
	if (json_object_get(u, "username") || json_object_get(u, "password"))
		return fail(err, errlen, -ENOTSUP,
			    "%s uses basic authentication, which Kubernetes removed; use a "
			    "client certificate or a token",
			    where);
	if ((rc = blob_field(u, "client-certificate", dir, where, &c->cert, err, errlen)) ||
	    (rc = blob_field(u, "client-key", dir, where, &c->key, err, errlen)))
		return rc;
	if (!c->cert.len != !c->key.len)
		return fail(err, errlen, -EINVAL, "%s has a client %s without its %s", where,
			    c->cert.len ? "certificate" : "key",
			    c->cert.len ? "key" : "certificate");
	if ((rc = str_field(u, "token", &token, where, err, errlen)) ||
	    (rc = str_field(u, "tokenFile", &token_file, where, err, errlen)))
		return rc;
	if (token && *token)
		return dup_str(&c->token, token);
	if (token_file) {
		char buf[16];

		c->token_file = resolve(dir, token_file);
		if (!c->token_file)
			return -ENOMEM;
		rc = bl_kube_config_token(c, buf, sizeof(buf));
		if (rc && rc != -ENOBUFS)
			return fail(err, errlen, rc, "%s.tokenFile: cannot read %s: %s", where,
				    c->token_file, strerror(-rc));
	}
	return 0;
}

int bl_kubeconfig_parse(const char *buf, size_t len, const char *dir, const char *context,
			struct bl_kube_config *out, char *err, size_t errlen)
{
	json_t *docs = NULL, *root, *ctx, *cl, *u;
	const char *cur, *cluster, *user;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = bl_yaml_load(buf, len, &docs, err, errlen);
	if (rc)
		return rc;
	root = json_array_get(docs, 0);
	if (!json_is_object(root)) {
		rc = fail(err, errlen, -EINVAL, "not a kubeconfig (expected a mapping)");
		goto out;
	}
	if ((rc = str_field(root, "current-context", &cur, "kubeconfig", err, errlen)))
		goto out;
	if (context && *context)
		cur = context;
	if (!cur || !*cur) {
		rc = fail(err, errlen, -EINVAL, "no current-context set and no --context given");
		goto out;
	}
	if ((rc = dup_str(&out->context, cur)) ||
	    (rc = named(root, "contexts", "context", cur, &ctx, err, errlen)) ||
	    (rc = str_field(ctx, "cluster", &cluster, "context", err, errlen)) ||
	    (rc = str_field(ctx, "user", &user, "context", err, errlen)))
		goto out;
	if (!cluster || !*cluster) {
		rc = fail(err, errlen, -EINVAL, "context \"%s\" names no cluster", cur);
		goto out;
	}
	if ((rc = dup_str(&out->cluster, cluster)) || (rc = dup_str(&out->user, user)) ||
	    (rc = named(root, "clusters", "cluster", cluster, &cl, err, errlen)) ||
	    (rc = parse_cluster(cl, dir, out, err, errlen)))
		goto out;
	/* a context without a user talks to the cluster anonymously */
	if (user && *user &&
	    ((rc = named(root, "users", "user", user, &u, err, errlen)) ||
	     (rc = parse_user(u, dir, out, err, errlen))))
		goto out;
out:
	json_decref(docs);
	if (rc)
		bl_kube_config_free(out);
	return rc;
}

int bl_kubeconfig_load(const char *file, const char *context, struct bl_kube_config *out, char *err,
		       size_t errlen)
{
	struct bl_kube_blob b = {0};
	char msg[512], *dir, *slash;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = slurp(file, KUBECONFIG_MAX_BYTES, &b);
	if (rc)
		return fail(err, errlen, rc, "kubeconfig %s: %s", file, strerror(-rc));
	dir = strdup(file);
	if (!dir) {
		free(b.data);
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	rc = bl_kubeconfig_parse(b.data, b.len, slash ? dir : ".", context, out, msg, sizeof(msg));
	if (rc)
		fail(err, errlen, rc, "kubeconfig %s: %s", file, msg);
	free(dir);
	free(b.data);
	return rc;
}

int bl_kube_in_cluster(const char *sa_dir, struct bl_kube_config *out, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char *ca = NULL, tok[16];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sa_dir)
		sa_dir = BL_KUBE_SA_DIR;
	if (!host || !*host)
		return fail(err, errlen, -ENOENT, "KUBERNETES_SERVICE_HOST is not set");
	if (!port || !*port)
		port = "443";
	if (strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
		return fail(err, errlen, -EINVAL, "KUBERNETES_SERVICE_PORT \"%s\" is not a port",
			    port);
	/* an IPv6 service address goes in brackets */
	if (asprintf(&out->server, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host,
		     port) < 0 ||
	    asprintf(&out->token_file, "%s/token", sa_dir) < 0 ||
	    asprintf(&ca, "%s/ca.crt", sa_dir) < 0) {
		out->server = out->token_file = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = bl_kube_config_token(out, tok, sizeof(tok));
	if (rc && rc != -ENOBUFS) {
		fail(err, errlen, rc, "in-cluster: cannot read the service account token %s: %s",
		     out->token_file, strerror(-rc));
		goto out;
	}
	rc = slurp(ca, KUBECONFIG_MAX_BYTES, &out->ca);
	if (rc)
		fail(err, errlen, rc, "in-cluster: cannot read %s: %s", ca, strerror(-rc));
out:
	free(ca);
	if (rc)
		bl_kube_config_free(out);
	return rc;
}

int bl_kube_config_token(const struct bl_kube_config *c, char *buf, size_t len)
{
	struct bl_kube_blob b = {0};
	const char *s = c->token;
	size_t n;
	int rc = 0;

	if (!len)
		return -ENOBUFS;
	buf[0] = 0;
	if (!s && c->token_file) {
		rc = slurp(c->token_file, TOKEN_MAX_BYTES, &b);
		if (rc)
			return rc;
		s = b.data;
	}
	if (!s)
		return 0;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= len) {
		rc = -ENOBUFS;
	} else {
		memcpy(buf, s, n);
		buf[n] = 0;
	}
	free(b.data);
	return rc;
}

void bl_kube_config_free(struct bl_kube_config *c)
{
	free(c->server);
	free(c->context);
	free(c->cluster);
	free(c->user);
	free(c->ca.data);
	free(c->cert.data);
	free(c->key.data);
	free(c->token);
	free(c->token_file);
	memset(c, 0, sizeof(*c));
}
