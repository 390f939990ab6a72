/* Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown) → JSON objects, for the
 * kinds typed clients (kubectl create namespace/configmap/secret/serviceaccount/service)
 * send that way. Table-driven over the proto wire format: each known message lists its
 * fields; zero values that Go's JSON would omit are omitted; a set field the tables do
 * not know is an error, never silently dropped. */
#ifndef BPFLET_CP_PB_DECODE_H
#define BPFLET_CP_PB_DECODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum pb_kind {
	PB_STRING,
	PB_BYTES, /* JSON: base64 */
	PB_INT,	  /* int32/int64 varint */
	PB_BOOL,
	PB_MSG,
	PB_MSG_LIST,	/* repeated message */
	PB_STRING_LIST, /* repeated string */
	PB_MAP_STRING,	/* map<string, string> */
	PB_MAP_BYTES,	/* map<string, bytes>: values base64 */
	PB_INT_OR_STRING,
	PB_TIME, /* meta.v1.Time {seconds, nanos} → RFC 3339 */
};

struct pb_msg;

struct pb_field {
	uint32_t num;
	const char *json;
	enum pb_kind kind;
	const struct pb_msg *sub; /* PB_MSG, PB_MSG_LIST */
	int keep_zero;		  /* a Go pointer field: present means set, even to zero */
};

struct pb_msg {
	const char *name;
	const struct pb_field *fields;
	size_t n;
};

/* The message table of apiVersion/kind, or NULL. */
const struct pb_msg *bl_pb_kind_msg(const char *api_version, const char *kind);

/* One message's bytes → a new JSON object; NULL with err set on malformed input or a
 * field the table does not know. */
json_t *bl_pb_decode_msg(const struct pb_msg *m, const uint8_t *buf, size_t len, char *err,
			 size_t errlen);

/* A whole body: magic, envelope, then the kind's message, with apiVersion and kind set. */
json_t *bl_pb_decode_object(const uint8_t *buf, size_t len, char *err, size_t errlen);

#endif
