#include "controlplane/apiserver/authn.h"
#include "controlplane/apiserver/tls.h"
#include "agent/common/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uthash.h>

struct token {
	char *token;
	struct bl_user user;
	UT_hash_handle hh;
};

struct bl_tokens {
	struct token *by_token;
};

/* Next CSV field of *p into buf: plain, or double-quoted with "" for a quote. */
static bool next_field(const char **p, char *buf, size_t len)
{
	const char *s = *p;
	size_t n = 0;

	if (!s)
		return false;
	if (*s == '"') {
		for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
			if (*s == '"')
				s++;
			if (n + 1 < len)
				buf[n++] = *s;
		}
		if (*s == '"')
			s++;
	} else {
		for (; *s && *s != ','; s++)
			if (n + 1 < len)
				buf[n++] = *s;
	}
	buf[n] = '\0';
	*p = *s == ',' ? s + 1 : NULL;
	return true;
}

static void split_groups(const char *csv, struct bl_user *u)
{
	const char *p = csv;

	while (*p && u->ngroups < HX_MAX_GROUPS) {
		size_t n = strcspn(p, ",");

		if (n)
			snprintf(u->groups[u->ngroups++], sizeof(u->groups[0]), "%.*s", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
}

struct bl_tokens *bl_tokens_load(const char *path)
{
	struct bl_tokens *t = calloc(1, sizeof(*t));
	FILE *f = fopen(path, "r");
	char line[2048], tok[512], groups[1024];
	int lineno = 0;

	if (!t || !f) {
		if (f)
			fclose(f);
		return t;
	}
	while (fgets(line, sizeof(line), f)) {
		const char *p = line;
		struct token *e;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		e = calloc(1, sizeof(*e));
		if (!e || !next_field(&p, tok, sizeof(tok)) ||
		    !next_field(&p, e->user.name, sizeof(e->user.name)) || !tok[0] ||
		    !e->user.name[0]) {
			log_err("%s:%d: want token,user,uid[,\"group1,group2\"]", path, lineno);
			free(e);
			fclose(f);
			bl_tokens_free(t);
			return NULL;
		}
		next_field(&p, e->user.uid, sizeof(e->user.uid));
		if (next_field(&p, groups, sizeof(groups)))
			split_groups(groups, &e->user);
		e->token = strdup(tok);
		HASH_ADD_KEYPTR(hh, t->by_token, e->token, strlen(e->token), e);
	}
	fclose(f);
	log_info("loaded %u bearer tokens from %s", HASH_COUNT(t->by_token), path);
	return t;
}

void bl_tokens_free(struct bl_tokens *t)
{
	struct token *e, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, t->by_token, e, tmp)
	{
		HASH_DEL(t->by_token, e);
		free(e->token);
		free(e);
	}
	free(t);
}

bool bl_authenticate(struct bl_tokens *t, struct hx *x)
{
	const char *auth = x->authorization;
	struct token *e = NULL;

	if (bl_tls_peer_user(x->ssl, &x->user))
		return true;
	if (!t || !auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	HASH_FIND_STR(t->by_token, auth, e);
	if (!e)
		return false;
	x->user = e->user;
	return true;
}
