/* Certificates with OpenSSL: EC P-256 keys, one CA signing a serving and a client cert. */
#include "controlplane/apiserver/pki.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS	  3650
#define LEAF_DAYS 365

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *c;

	if (!f)
		return NULL;
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return c;
}

static int save(const char *path, X509 *cert, EVP_PKEY *key)
{
	/* keys are secrets: 0600 from the moment the file exists */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, key ? 0600 : 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		log_err("pki: cannot write %s: %m", path);
		return -1;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, cert);
	if (fclose(f) != 0 || !ok) {
		log_err("pki: cannot write %s", path);
		return -1;
	}
	return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int random_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));

	BN_free(bn);
	return ok ? 0 : -1;
}

/* exts: NULL-terminated pairs of (nid, value). issuer NULL: self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer,
		       EVP_PKEY *issuer_key, int days, const int *nids, const char *const *vals)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	int ok = cert != NULL;

	if (ok)
		ok = X509_set_version(cert, 2) && random_serial(cert) == 0 &&
		     X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
		     X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) &&
		     X509_set_pubkey(cert, key);
	if (ok) {
		name = X509_get_subject_name(cert);
		if (org)
			ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
							(const unsigned char *)org, -1, -1, 0);
		ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						      (const unsigned char *)cn, -1, -1, 0);
		ok = ok &&
		     X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
	}
	for (int i = 0; ok && nids[i]; i++)
		ok = add_ext(cert, issuer ? issuer : cert, nids[i], vals[i]) == 0;
	if (ok)
		ok = X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	if (!ok) {
		log_err("pki: cannot make the certificate for %s", cn);
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static int make_leaf(const char *crt, const char *keyp, const char *cn, const char *org, X509 *ca,
		     EVP_PKEY *ca_key, const int *nids, const char *const *vals)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? make_cert(key, cn, org, ca, ca_key, LEAF_DAYS, nids, vals) : NULL;
	int rc = cert && save(keyp, NULL, key) == 0 && save(crt, cert, NULL) == 0 ? 0 : -1;

	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static bool covers(const char *crt, const char *host)
{
	X509 *cert = load_cert(crt);
	struct in_addr a;
	bool ok;

	if (!cert)
		return false;
	if (inet_pton(AF_INET, host, &a) == 1)
		ok = X509_check_ip_asc(cert, host, 0) == 1;
	else
		ok = X509_check_host(cert, host, 0, 0, NULL) == 1;
	/* a certificate about to expire is remade too */
	ok = ok && X509_cmp_time(X509_get0_notAfter(cert), NULL) > 0;
	X509_free(cert);
	return ok;
}

static int serving_cert(const struct bl_pki *p, const char *host, X509 *ca, EVP_PKEY *ca_key)
{
	static const int nids[] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
				   NID_subject_alt_name, 0};
	char san[512];
	struct in_addr a;
	const char *vals[] = {"critical,CA:FALSE", "critical,digitalSignature,keyEncipherment",
			      "serverAuth", san, NULL};

	/* in-cluster clients reach us as the default/kubernetes Service (10.96.0.1) */
	snprintf(san, sizeof(san),
		 "IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,"
		 "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local%s%s",
		 inet_pton(AF_INET, host, &a) == 1 ? ",IP:" : ",DNS:", host);
	return make_leaf(p->serving_crt, p->serving_key, "bpflet-controlplane", NULL, ca, ca_key,
			 nids, vals);
}

int bl_pki_ensure(const char *data_dir, const char *host, struct bl_pki *p)
{
	static const int ca_nids[] = {NID_basic_constraints, NID_key_usage,
				      NID_subject_key_identifier, 0};
	static const char *const ca_vals[] = {"critical,CA:TRUE", "critical,keyCertSign,cRLSign",
					      "hash", NULL};
	static const int cl_nids[] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage, 0};
	static const char *const cl_vals[] = {"critical,CA:FALSE", "critical,digitalSignature",
					      "clientAuth", NULL};
	char dir[400];
	EVP_PKEY *ca_key;
	X509 *ca;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/pki", data_dir);
	if (bl_mkdir_p(dir, 0700) < 0) {
		log_err("pki: cannot create %s", dir);
		return -1;
	}
	snprintf(p->ca_crt, sizeof(p->ca_crt), "%s/ca.crt", dir);
	snprintf(p->ca_key, sizeof(p->ca_key), "%s/ca.key", dir);
	snprintf(p->serving_crt, sizeof(p->serving_crt), "%s/apiserver.crt", dir);
	snprintf(p->serving_key, sizeof(p->serving_key), "%s/apiserver.key", dir);
	snprintf(p->admin_crt, sizeof(p->admin_crt), "%s/admin.crt", dir);
	snprintf(p->admin_key, sizeof(p->admin_key), "%s/admin.key", dir);

	ca = load_cert(p->ca_crt);
	ca_key = load_key(p->ca_key);
	if (!ca || !ca_key) {
		X509_free(ca);
		EVP_PKEY_free(ca_key);
		log_info("pki: creating a new CA in %s", dir);
		ca_key = EVP_EC_gen("P-256");
		ca = ca_key ? make_cert(ca_key, "bpflet-ca", NULL, NULL, NULL, CA_DAYS, ca_nids,
					ca_vals)
			    : NULL;
		if (!ca || save(p->ca_key, NULL, ca_key) || save(p->ca_crt, ca, NULL))
			goto out;
		/* a new CA invalidates every leaf signed by an old one */
		unlink(p->serving_crt);
		unlink(p->admin_crt);
	}
	if (!covers(p->serving_crt, host) && serving_cert(p, host, ca, ca_key))
		goto out;
	if (access(p->admin_crt, R_OK) != 0 || access(p->admin_key, R_OK) != 0) {
		if (make_leaf(p->admin_crt, p->admin_key, "admin", "system:masters", ca, ca_key,
			      cl_nids, cl_vals))
			goto out;
	}
	rc = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}
