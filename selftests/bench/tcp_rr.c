/*
 * tcp_rr: a netperf-style request/response load generator for the benchmarks.
 *   tcp_rr -s PORT                         serve: echo every byte back (one process
 *                                           per connection)
 *   tcp_rr -c IP:PORT [-t SEC] [-m rr|crr]  rr: one connection, 1-byte ping-pong;
 *                                           crr: connect, 1-byte exchange, close
 * Prints "transactions_per_second N". Bounded by -t (default 3 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int serve(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGCHLD, SIG_IGN);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		perror("tcp_rr: bind/listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);
		char buf[64];
		ssize_t n;

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)n) != n)
					break;
			_exit(0);
		}
		close(c);
	}
}

static int exchange(int fd)
{
	char b = 'x';

	return write(fd, &b, 1) == 1 && read(fd, &b, 1) == 1 ? 0 : -1;
}

static int dial(const struct sockaddr_in *sa)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct linger lg = {1, 0};  /* RST on close: no TIME_WAIT pile-up in crr */
	struct timeval tv = {1, 0}; /* a lost packet costs a second, never a hang */

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *target = NULL, *mode = "rr";
	double secs = 3, start;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	long n = 0, errors = 0;
	int opt, fd = -1;

	while ((opt = getopt(argc, argv, "s:c:t:m:")) != -1) {
		switch (opt) {
		case 's':
			return serve(atoi(optarg));
		case 'c':
			target = optarg;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'm':
			mode = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: tcp_rr -s PORT | -c IP:PORT [-t SEC] [-m rr|crr]\n");
			return 2;
		}
	}
	if (!target || !strchr(target, ':') || secs <= 0 || secs > 60) {
		fprintf(stderr, "tcp_rr: need -c IP:PORT and 0 < -t <= 60\n");
		return 2;
	}
	char ip[64];

	snprintf(ip, sizeof(ip), "%.*s", (int)(strchr(target, ':') - target), target);
	sa.sin_port = htons((uint16_t)atoi(strchr(target, ':') + 1));
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "tcp_rr: bad address %s\n", ip);
		return 2;
	}
	if (!strcmp(mode, "rr") && (fd = dial(&sa)) < 0) {
		perror("tcp_rr: connect");
		return 1;
	}
	start = now();
	while (now() - start < secs) {
		for (int i = 0; i < 64; i++) {
			if (fd >= 0) {
				if (exchange(fd)) {
					perror("tcp_rr: exchange");
					return 1;
				}
			} else {
				int c = dial(&sa);

				if (c < 0 || exchange(c))
					errors++;
				else
					n++;
				if (c >= 0)
					close(c);
				continue;
			}
			n++;
		}
		if (errors > 1000) {
			fprintf(stderr, "tcp_rr: too many failed connections\n");
			return 1;
		}
	}
	printf("transactions_per_second %.0f\nerrors %ld\n", n / (now() - start), errors);
	return 0;
}
