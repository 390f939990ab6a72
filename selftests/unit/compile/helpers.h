/* Shared by the compile tests: fixtures, compiling them, finding frontends. */
#ifndef BPFLET_TEST_COMPILE_HELPERS_H
#define BPFLET_TEST_COMPILE_HELPERS_H

#include "agent/manifests/manifests.h"
#include "controlplane/compile/compile.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Absolute path of selftests/unit/testdata/<name> (BL_TESTDATA overrides the dir). */
const char *fixture_path(const char *name, char *buf, size_t len);
/* Reads a fixture; caller frees. */
char *fixture_read(const char *name, size_t *len);
/* Parses a fixture with bl_manifest_parse; returns its error count, objs may be NULL. */
int fixture_parse(const char *name, json_t **objs, struct bl_errlist *errs);
/* Parses (must be clean) and compiles fixtures (NULL-terminated list) together. */
void compile_fixtures(const struct bl_compile_opts *o, struct bl_svc_table *t,
		      struct bl_errlist *errs, const char *first, ...);

/* The frontend for ip:port/proto in scope, or NULL. */
const struct bl_svc_frontend *fe_get(const struct bl_svc_table *t, const char *ip, uint16_t port,
				     uint8_t proto, uint8_t scope);
/* Backend address as text (static buffer per call site usage). */
const char *be_ip(const struct bl_svc_backend *b, char *buf);

/* Do the first `bits` bits of a and b agree? (an LPM trie's prefix test) */
bool lpm_prefix_eq(const void *a, const void *b, uint32_t bits);

/* Writes a file (mkdir'd parent assumed); returns 0. */
int write_file(const char *dir, const char *name, const char *text);

#endif
