/*
 * tcp_rr: a netperf-style request/response load generator for the benchmarks.
 *   tcp_rr -s PORT     serve: echo every TCP byte and every UDP datagram on PORT back,
 *                      from one epoll loop (a process per connection would make crr
 *                      measure fork(), not the network)
 *   tcp_rr -c IP:PORT [-t SEC] [-m rr|crr|udp]
 *     rr:  one TCP connection, 1-byte ping-pong
 *     crr: connect, 1-byte exchange, close (RST); also the time of each connect():
 *          the first packet's round trip (SYN out, SYN-ACK back) through the path
 *     udp: one UDP socket, 1-byte datagram ping-pong; no reply within 200 ms is an error
 * Prints "transactions N", "transactions_per_second N" and "errors N"; crr adds "connects N",
 * "connect_p50_us N" and "connect_p99_us N". Bounded by -t (default 3 s).
 *
 * Several -c [NETNS@]IP:PORT (NETNS a name under /var/run/netns or a path) are measured
 * in one run, taking turns in slices of -q ms (default 50), each for -t seconds in all;
 * every line of the output then starts with its target, and "slice_median_per_second"
 * is the median of its slices' rates. On a shared machine the load of the moment falls
 * on every target alike, and the slices where others took the CPU fall out of the
 * median, so ratios hold where separate runs a few seconds apart would not.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bound(int type, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, 1024))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void serve_udp(int fd)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char buf[2048];
	ssize_t n;

	while ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len)) >= 0) {
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
		len = sizeof(peer);
	}
}

static void accept_all(int ep, int lfd)
{
	int one = 1, c;

	while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		watch(ep, c);
	}
}

static int serve(int port)
{
	int lfd = bound(SOCK_STREAM, port), ufd = bound(SOCK_DGRAM, port);
	int ep = epoll_create1(0);
	struct epoll_event evs[64];

	if (lfd < 0 || ufd < 0 || ep < 0) {
		perror("tcp_rr: bind/listen");
		return 1;
	}
	watch(ep, lfd);
	watch(ep, ufd);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[256];
			ssize_t r;

			if (fd == lfd) {
				accept_all(ep, lfd);
			} else if (fd == ufd) {
				serve_udp(ufd);
			} else if ((r = read(fd, buf, sizeof(buf))) > 0) {
				if (write(fd, buf, (size_t)r) != r)
					close(fd);
			} else if (r == 0 || errno != EAGAIN) {
				close(fd); /* also leaves the epoll set */
			}
		}
	}
}

static int exchange(int fd)
{
	char b = 'x';

	return write(fd, &b, 1) == 1 && read(fd, &b, 1) == 1 ? 0 : -1;
}

/* A blocking socket whose reads and writes give up after `ms`: a lost packet costs
 * that long, never a hang. */
static int sock(int type, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fd = socket(AF_INET, type, 0);

	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* connect() to sa; its duration in microseconds goes to *us. */
static int dial(const struct sockaddr_in *sa, double *us)
{
	int one = 1, fd = sock(SOCK_STREAM, 1000);
	struct linger lg = {1, 0}; /* RST on close: no TIME_WAIT pile-up in crr */
	double t0;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	t0 = now();
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		close(fd);
		return -1;
	}
	*us = (now() - t0) * 1e6;
	return fd;
}

struct samples {
	float *v;
	size_t n, cap;
};

static void sample_add(struct samples *s, double us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		float *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return; /* keep the samples so far */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (float)us;
}

static int cmp_f(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* One transaction of `mode` on fd (rr, udp) or on a new connection (crr). */
static int transact(const char *mode, int fd, const struct sockaddr_in *sa, struct samples *s)
{
	double us;
	int c, rc;

	if (strcmp(mode, "crr"))
		return exchange(fd);
	c = dial(sa, &us);
	if (c < 0)
		return -1;
	sample_add(s, us);
	rc = exchange(c);
	close(c);
	return rc;
}

/* One -c: [NETNS@]IP:PORT, its socket (rr, udp) and what it measured. */
struct target {
	const char *spec;
	int nsfd; /* -1: the current namespace */
	struct sockaddr_in sa;
	int fd;
	long n, errors;
	double secs;
	struct samples s;     /* crr: each connect()'s microseconds */
	struct samples rates; /* each slice's transactions per second */
};

static int parse_target(const char *spec, struct target *t)
{
	const char *at = strchr(spec, '@'), *addr = at ? at + 1 : spec;
	const char *colon = strchr(addr, ':');
	char ip[64], ns[256];

	*t = (struct target){.spec = spec, .nsfd = -1, .fd = -1};
	if (!colon || colon - addr >= (long)sizeof(ip))
		return -1;
	if (at) {
		/* a bare name is one of `ip netns`'s */
		snprintf(ns, sizeof(ns), "%s%.*s", spec[0] == '/' ? "" : "/var/run/netns/",
			 (int)(at - spec), spec);
		if ((t->nsfd = open(ns, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "tcp_rr: cannot open network namespace %s\n", ns);
			return -1;
		}
	}
	snprintf(ip, sizeof(ip), "%.*s", (int)(colon - addr), addr);
	t->sa.sin_family = AF_INET;
	t->sa.sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, ip, &t->sa.sin_addr) == 1 ? 0 : -1;
}

/* Sockets made from now on belong to t's namespace. */
static int enter(const struct target *t)
{
	if (t->nsfd >= 0 && setns(t->nsfd, CLONE_NEWNET)) {
		perror("tcp_rr: setns");
		return -1;
	}
	return 0;
}

/* rr and udp: the one socket each target uses throughout. */
static int open_target(const char *mode, struct target *t)
{
	double us;

	if (enter(t))
		return -1;
	if (!strcmp(mode, "rr") && (t->fd = dial(&t->sa, &us)) < 0) {
		fprintf(stderr, "tcp_rr: connect to %s: %s\n", t->spec, strerror(errno));
		return -1;
	}
	if (!strcmp(mode, "udp") && ((t->fd = sock(SOCK_DGRAM, 200)) < 0 ||
				     connect(t->fd, (struct sockaddr *)&t->sa, sizeof(t->sa)))) {
		fprintf(stderr, "tcp_rr: udp socket to %s: %s\n", t->spec, strerror(errno));
		return -1;
	}
	return 0;
}

/* Transactions on t for up to `slice` seconds without passing `secs` in total. */
static int run_slice(const char *mode, struct target *t, double slice, double secs)
{
	double t0 = now(), left = secs - t->secs, dt;
	long n0 = t->n;

	if (left < slice)
		slice = left;
	if (!strcmp(mode, "crr") && enter(t))
		return -1;
	while (now() - t0 < slice) {
		if (transact(mode, t->fd, &t->sa, &t->s) == 0) {
			t->n++;
		} else if (!strcmp(mode, "rr")) {
			fprintf(stderr, "tcp_rr: exchange with %s: %s\n", t->spec, strerror(errno));
			return -1;
		} else if (++t->errors > 1000) {
			fprintf(stderr, "tcp_rr: too many failed %s transactions to %s\n", mode,
				t->spec);
			return -1;
		}
	}
	dt = now() - t0;
	t->secs += dt;
	if (dt > slice / 2) /* a last sliver says little */
		sample_add(&t->rates, (t->n - n0) / dt);
	return 0;
}

static void report(const char *mode, struct target *t, bool prefix)
{
	const char *p = prefix ? t->spec : "", *sp = prefix ? " " : "";

	printf("%s%stransactions %ld\n%s%stransactions_per_second %.0f\n%s%serrors %ld\n", p, sp,
	       t->n, p, sp, t->secs > 0 ? t->n / t->secs : 0, p, sp, t->errors);
	if (t->rates.n) {
		qsort(t->rates.v, t->rates.n, sizeof(*t->rates.v), cmp_f);
		printf("%s%sslice_median_per_second %.0f\n%s%sslices %zu\n", p, sp,
		       t->rates.v[t->rates.n / 2], p, sp, t->rates.n);
	}
	if (strcmp(mode, "crr"))
		return;
	printf("%s%sconnects %zu\n", p, sp, t->s.n);
	if (t->s.n) {
		size_t p99 = (size_t)(t->s.n * 0.99);

		qsort(t->s.v, t->s.n, sizeof(*t->s.v), cmp_f);
		if (p99 >= t->s.n)
			p99 = t->s.n - 1;
		printf("%s%sconnect_p50_us %.1f\n%s%sconnect_p99_us %.1f\n", p, sp,
		       t->s.v[t->s.n / 2], p, sp, t->s.v[p99]);
	}
}

#define MAX_TARGETS 8

int main(int argc, char **argv)
{
	struct target tg[MAX_TARGETS];
	const char *mode = "rr";
	double secs = 3, slice = 0.05;
	int opt, nt = 0, rc = 0;
	bool busy = true;

	while ((opt = getopt(argc, argv, "s:c:t:m:q:")) != -1) {
		switch (opt) {
		case 's':
			return serve(atoi(optarg));
		case 'c':
			if (nt == MAX_TARGETS || parse_target(optarg, &tg[nt++])) {
				fprintf(stderr, "tcp_rr: bad target %s (at most %d)\n", optarg,
					MAX_TARGETS);
				return 2;
			}
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'q':
			slice = atof(optarg) / 1000;
			break;
		default:
			fprintf(stderr,
				"usage: tcp_rr -s PORT | -c [NETNS@]IP:PORT [-c ...] [-t SEC] "
				"[-m rr|crr|udp] [-q SLICE_MS]\n");
			return 2;
		}
	}
	if (!nt || secs <= 0 || secs > 60 || slice <= 0 ||
	    (strcmp(mode, "rr") && strcmp(mode, "crr") && strcmp(mode, "udp"))) {
		fprintf(stderr, "tcp_rr: need -c [NETNS@]IP:PORT, 0 < -t <= 60, -m rr|crr|udp, "
				"-q > 0\n");
		return 2;
	}
	for (int i = 0; i < nt; i++)
		if (open_target(mode, &tg[i]))
			return 1;
	if (nt == 1)
		slice = secs;
	/* round robin in slices: whatever else the machine does falls on every target alike */
	while (busy && !rc) {
		busy = false;
		for (int i = 0; i < nt && !rc; i++) {
			if (tg[i].secs >= secs)
				continue;
			busy = true;
			rc = run_slice(mode, &tg[i], slice, secs);
		}
	}
	for (int i = 0; i < nt; i++) {
		if (!rc)
			report(mode, &tg[i], nt > 1);
		rc |= !tg[i].n;
		free(tg[i].s.v);
		free(tg[i].rates.v);
	}
	return rc ? 1 : 0;
}
