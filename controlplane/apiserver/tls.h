/* TLS for the API port: ALPN h2 / http/1.1, client certificates checked against our CA. */
#ifndef BPFLET_CP_TLS_H
#define BPFLET_CP_TLS_H

#include "controlplane/apiserver/exchange.h"

#include <openssl/ssl.h>

SSL_CTX *bl_tls_server_ctx(const char *cert, const char *key, const char *client_ca);

/* The verified client certificate's CN and O's; false when there is none or it did not
 * verify. */
bool bl_tls_peer_user(SSL *ssl, struct bl_user *u);

/* true when ALPN chose h2 */
bool bl_tls_is_h2(SSL *ssl);

#endif
