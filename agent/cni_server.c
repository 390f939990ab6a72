#include "agent/cni_server.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REQUEST 8192

static void reply_and_close(struct bufferevent *bev, int rc, const char *err)
{
	json_t *o =
		rc ? json_pack("{s:b, s:s}", "ok", 0, "error", err) : json_pack("{s:b}", "ok", 1);
	char *s = json_dumps(o, JSON_COMPACT);

	if (s) {
		bufferevent_write(bev, s, strlen(s));
		bufferevent_write(bev, "\n", 1);
	}
	free(s);
	json_decref(o);
	/* the write callback closes once the reply has left */
	bufferevent_disable(bev, EV_READ);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
	    !(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_free(bev);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct bl_cni_server *srv = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct bl_endpoint_msg m;
	char err[512] = "";
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	int rc;

	if (!line) {
		if (evbuffer_get_length(in) > MAX_REQUEST)
			reply_and_close(bev, -E2BIG, "request too long");
		return;
	}
	rc = bl_endpoint_msg_decode(line, &m, err, sizeof(err));
	if (rc)
		log_warn("CNI request rejected: %s", err);
	else
		rc = bl_endpoints_handle(srv->eps, &m, err, sizeof(err));
	if (!rc && m.op != BL_EP_CHECK && srv->on_change)
		srv->on_change(srv->ctx);
	if (rc && m.op != BL_EP_CHECK)
		log_warn("CNI %s %s: %s", m.op == BL_EP_DEL ? "DEL" : "ADD", m.container_id, err);
	free(line);
	reply_and_close(bev, rc, err);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct bufferevent *bev =
		bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);

	(void)sa;
	(void)len;
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, on_read, on_write, on_event, arg);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int bl_cni_server_start(struct bl_cni_server *srv, struct event_base *base, const char *instance,
			struct bl_endpoints *eps)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[128];
	int err;

	srv->eps = eps;
	bl_run_dir(dir, sizeof(dir), instance);
	err = bl_mkdir_p(dir, 0755);
	if (err)
		return err;
	bl_sock_path(srv->path, sizeof(srv->path), instance);
	if (strlen(srv->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, srv->path, strlen(srv->path) + 1);
	unlink(srv->path); /* a socket file left by an earlier agent */
	srv->listener = evconnlistener_new_bind(base, on_accept, srv,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
						(struct sockaddr *)&sa, sizeof(sa));
	if (!srv->listener) {
		err = -errno;
		log_err("cannot listen on %s: %s", srv->path, strerror(errno));
		return err ? err : -EIO;
	}
	chmod(srv->path, 0600);
	log_info("CNI endpoint registration on %s", srv->path);
	return 0;
}

void bl_cni_server_stop(struct bl_cni_server *srv)
{
	if (srv->listener)
		evconnlistener_free(srv->listener);
	srv->listener = NULL;
	unlink(srv->path);
}
