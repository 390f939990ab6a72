#include "controlplane/apiserver/tls.h"
#include "agent/common/log.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

static const unsigned char alpn_protos[] = "\x02h2\x08http/1.1";

/* Our preference order, not the client's: h2 whenever the client offers it. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, alpn_protos,
				  sizeof(alpn_protos) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* plain HTTP/1.1 */
	return SSL_TLSEXT_ERR_OK;
}

/* Accept the handshake whatever the client certificate: a bad or missing one becomes a
 * 401 later, with a Status body, instead of a TLS alert kubectl reports badly. */
static int verify_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

SSL_CTX *bl_tls_server_ctx(const char *cert, const char *key, const char *client_ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) * names;

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
		log_err("tls: cannot load %s / %s / %s: %s", cert, key, client_ca,
			ERR_reason_error_string(ERR_get_error()));
		SSL_CTX_free(ctx);
		return NULL;
	}
	names = SSL_load_client_CA_file(client_ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_any);
	/* resumed sessions keep their verified client identity */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"bpflet", 6);
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
	return ctx;
}

static void copy_entry(X509_NAME *name, int idx, char *buf, size_t len)
{
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);

	buf[0] = '\0';
	if (n >= 0)
		snprintf(buf, len, "%.*s", n, utf8);
	OPENSSL_free(utf8);
}

bool bl_tls_peer_user(SSL *ssl, struct bl_user *u)
{
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	X509_NAME *name;
	int idx;

	if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
		return false;
	/* a serving certificate is no client credential */
	if (!(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT))
		return false;
	name = X509_get_subject_name(cert);
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		return false;
	memset(u, 0, sizeof(*u));
	copy_entry(name, idx, u->name, sizeof(u->name));
	idx = -1;
	while ((idx = X509_NAME_get_index_by_NID(name, NID_organizationName, idx)) >= 0 &&
	       u->ngroups < HX_MAX_GROUPS)
		copy_entry(name, idx, u->groups[u->ngroups++], sizeof(u->groups[0]));
	return u->name[0] != '\0';
}

bool bl_tls_is_h2(SSL *ssl)
{
	const unsigned char *p;
	unsigned int n;

	SSL_get0_alpn_selected(ssl, &p, &n);
	return n == 2 && !memcmp(p, "h2", 2);
}
