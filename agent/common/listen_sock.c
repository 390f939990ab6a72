#include "agent/common/listen_sock.h"

#include <arpa/inet.h>
#include <event2/http.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

int bl_listen_tcp(const char *host, int port)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err;

	if (port < 0 || port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else {
		return -EAFNOSUPPORT;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a restart must not wait for the old connections' TIME_WAIT */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1024)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int bl_evhttp_listen(struct evhttp *http, const char *host, int port)
{
	int fd = bl_listen_tcp(host, port);

	if (fd == -EAFNOSUPPORT) {
		if (evhttp_bind_socket(http, host, (ev_uint16_t)port) == 0)
			return 0;
		return -(errno ? errno : EADDRNOTAVAIL);
	}
	if (fd < 0) {
		errno = -fd;
		return fd;
	}
	if (evhttp_accept_socket(http, fd)) {
		close(fd);
		errno = EINVAL;
		return -EINVAL;
	}
	return 0;
}
