#include "agent/common/endpoint_msg.h"
#include "agent/common/paths.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const op_names[] = {"add", "del", "check"};

char *bl_endpoint_msg_encode(const struct bl_endpoint_msg *m)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "op", op_names[m->op],
			      "container_id", m->container_id, "ifname", m->ifname, "ifindex",
			      m->ifindex, "ip", m->ip, "pod_namespace", m->pod_namespace,
			      "pod_name", m->pod_name, "netns", m->netns);
	char *s, *line;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return NULL;
	if (asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	free(s);
	return line;
}

static int copy_field(json_t *o, const char *key, char *dst, size_t len, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field %s: expected a string", key);
		return -EINVAL;
	}
	s = json_string_value(v);
	if (strlen(s) >= len) {
		snprintf(err, errlen, "field %s: longer than %zu bytes", key, len - 1);
		return -EINVAL;
	}
	strcpy(dst, s);
	return 0;
}

int bl_endpoint_msg_decode(const char *line, struct bl_endpoint_msg *m, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	const char *op;
	int rc = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "not a JSON object: %s", o ? "wrong type" : jerr.text);
		goto out;
	}
	op = json_string_value(json_object_get(o, "op"));
	if (!op) {
		snprintf(err, errlen, "field op: missing");
		goto out;
	}
	if (!strcmp(op, "add"))
		m->op = BL_EP_ADD;
	else if (!strcmp(op, "del"))
		m->op = BL_EP_DEL;
	else if (!strcmp(op, "check"))
		m->op = BL_EP_CHECK;
	else {
		snprintf(err, errlen, "field op: unknown operation '%s'", op);
		goto out;
	}
	if (copy_field(o, "container_id", m->container_id, sizeof(m->container_id), err, errlen) ||
	    copy_field(o, "ifname", m->ifname, sizeof(m->ifname), err, errlen) ||
	    copy_field(o, "ip", m->ip, sizeof(m->ip), err, errlen) ||
	    copy_field(o, "pod_namespace", m->pod_namespace, sizeof(m->pod_namespace), err,
		       errlen) ||
	    copy_field(o, "pod_name", m->pod_name, sizeof(m->pod_name), err, errlen) ||
	    copy_field(o, "netns", m->netns, sizeof(m->netns), err, errlen))
		goto out;
	if (json_object_get(o, "ifindex") && !json_is_integer(json_object_get(o, "ifindex"))) {
		snprintf(err, errlen, "field ifindex: expected an integer");
		goto out;
	}
	m->ifindex = (int)json_integer_value(json_object_get(o, "ifindex"));
	if (!m->container_id[0]) {
		snprintf(err, errlen, "field container_id: missing");
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int bl_endpoint_call(const char *instance, const struct bl_endpoint_msg *m, int timeout_ms,
		     char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char reply[1024];
	size_t got = 0;
	char *line = NULL;
	int fd = -1, rc;

	if (bl_sock_path(sa.sun_path, sizeof(sa.sun_path), instance)) {
		snprintf(err, errlen, "instance name too long");
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		snprintf(err, errlen,
			 "cannot reach the bpflet agent of instance '%s' at %s: %s (is the agent "
			 "running?)",
			 instance, sa.sun_path, strerror(errno));
		goto out;
	}
	line = bl_endpoint_msg_encode(m);
	if (!line) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		rc = -EIO;
		snprintf(err, errlen, "write to agent socket failed");
		goto out;
	}
	while (got < sizeof(reply) - 1 && !memchr(reply, '\n', got)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0) {
			rc = -ETIMEDOUT;
			snprintf(err, errlen, "agent of instance '%s' did not answer in %d ms",
				 instance, timeout_ms);
			goto out;
		}
		n = read(fd, reply + got, sizeof(reply) - 1 - got);
		if (n <= 0) {
			rc = -EIO;
			snprintf(err, errlen, "agent closed the connection without an answer");
			goto out;
		}
		got += (size_t)n;
	}
	reply[got] = '\0';
	{
		json_t *o = json_loads(reply, JSON_DISABLE_EOF_CHECK, NULL);

		if (o && json_is_true(json_object_get(o, "ok"))) {
			rc = 0;
		} else {
			const char *e = o ? json_string_value(json_object_get(o, "error")) : NULL;

			rc = -EPROTO;
			snprintf(err, errlen, "agent refused: %s", e ? e : "malformed reply");
		}
		json_decref(o);
	}
out:
	free(line);
	close(fd);
	return rc;
}
