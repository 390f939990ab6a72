/* Host-local IPAM. Every allocated address is a file named after it under data_dir
 * holding its owner ("<container id>\n<ifname>\n"); a lock file taken with flock
 * serializes concurrent plugin runs, so no address is ever handed out twice.
 * The network address, the first host and the broadcast address are never used. */
#include "agent/cni/cni.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define FIRST_OFFSET 2 /* .0 is the network, .1 stays free (gateway by convention) */

static int lock_dir(const struct cni_conf *c)
{
	char path[sizeof(c->data_dir) + 8];
	int fd, err = bl_mkdir_p(c->data_dir, 0700);

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/lock", c->data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void unlock_dir(int fd)
{
	close(fd); /* drops the flock */
}

static void ip_path(const struct cni_conf *c, uint32_t ip, char *buf, size_t len)
{
	struct in_addr a = {.s_addr = htonl(ip)};
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof(text));
	snprintf(buf, len, "%s/%s", c->data_dir, text);
}

static bool owned_by(int dirfd, const char *name, const char *id, const char *ifname)
{
	char buf[256], want[256];
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%s\n%s\n", id, ifname);
	return !strcmp(buf, want);
}

/* Visits every allocation file; stops early when fn returns non-zero. Lock held. */
static int scan(const struct cni_conf *c,
		int (*fn)(int dirfd, const char *name, uint32_t ip, void *arg), void *arg)
{
	DIR *d = opendir(c->data_dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return -errno;
	while (!rc && (de = readdir(d))) {
		struct in_addr a;

		if (inet_pton(AF_INET, de->d_name, &a) == 1)
			rc = fn(dirfd(d), de->d_name, ntohl(a.s_addr), arg);
	}
	closedir(d);
	return rc;
}

struct find_arg {
	const char *id, *ifname;
	uint32_t ip;
};

static int find_one(int dirfd, const char *name, uint32_t ip, void *arg)
{
	struct find_arg *fa = arg;

	if (!owned_by(dirfd, name, fa->id, fa->ifname))
		return 0;
	fa->ip = ip;
	return 1;
}

static int find_locked(const struct cni_conf *c, const char *id, const char *ifname, uint32_t *ip)
{
	struct find_arg fa = {.id = id, .ifname = ifname};
	int rc = scan(c, find_one, &fa);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return -ENOENT;
	*ip = fa.ip;
	return 0;
}

int ipam_find(const struct cni_conf *c, const char *id, const char *ifname, uint32_t *ip)
{
	int fd = lock_dir(c), rc;

	if (fd < 0)
		return fd;
	rc = find_locked(c, id, ifname, ip);
	unlock_dir(fd);
	return rc;
}

struct used_arg {
	const struct bl_cidr4 *cidr;
	unsigned char *bits;
};

static int mark_used(int dirfd, const char *name, uint32_t ip, void *arg)
{
	struct used_arg *ua = arg;
	uint32_t off = ip - ua->cidr->net;

	(void)dirfd;
	(void)name;
	if (bl_cidr4_contains(ua->cidr, ip))
		ua->bits[off / 8] |= (unsigned char)(1u << (off % 8));
	return 0;
}

/* Writes the owner to a temporary file, then link()s it into place: an address file
 * is either absent or complete, even if the plugin dies half way. */
static int claim(const struct cni_conf *c, uint32_t ip, const char *id, const char *ifname)
{
	char tmp[sizeof(c->data_dir) + 32], path[sizeof(c->data_dir) + 32];
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s/.tmp.%d", c->data_dir, (int)getpid());
	ip_path(c, ip, path, sizeof(path));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s\n%s\n", id, ifname) < 0 || fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && link(tmp, path))
		rc = -errno;
	unlink(tmp);
	return rc;
}

static int alloc_locked(const struct cni_conf *c, const char *id, const char *ifname, uint32_t *ip)
{
	uint32_t size = 1u << (32 - c->pod_cidr.plen);
	struct used_arg ua = {.cidr = &c->pod_cidr, .bits = calloc(size / 8 + 1, 1)};
	int rc;

	if (!ua.bits)
		return -ENOMEM;
	rc = scan(c, mark_used, &ua);
	for (uint32_t off = FIRST_OFFSET; !rc && off < size - 1; off++) {
		if (ua.bits[off / 8] & (1u << (off % 8)))
			continue;
		rc = claim(c, c->pod_cidr.net + off, id, ifname);
		if (rc == -EEXIST) { /* written by someone ignoring the lock; skip it */
			rc = 0;
			continue;
		}
		if (!rc)
			*ip = c->pod_cidr.net + off;
		free(ua.bits);
		return rc;
	}
	free(ua.bits);
	return rc ? rc : -ENOSPC;
}

int ipam_alloc(const struct cni_conf *c, const char *id, const char *ifname, uint32_t *ip,
	       struct cni_error *e)
{
	int fd = lock_dir(c), rc;

	if (fd < 0) {
		cni_set_error(e, CNI_ERR_IO, strerror(-fd), "IPAM state in %s is not usable",
			      c->data_dir);
		return fd;
	}
	/* a repeated ADD gets the address it already holds */
	rc = find_locked(c, id, ifname, ip);
	if (rc == 0 && !bl_cidr4_contains(&c->pod_cidr, *ip)) {
		char path[sizeof(c->data_dir) + 32];

		/* held from an older podCIDR: give it back and take a new one */
		ip_path(c, *ip, path, sizeof(path));
		unlink(path);
		rc = -ENOENT;
	}
	if (rc)
		rc = alloc_locked(c, id, ifname, ip);
	unlock_dir(fd);
	if (rc == -ENOSPC)
		cni_set_error(e, CNI_ERR_OTHER, "release addresses with DEL or widen podCIDR",
			      "no free address left in podCIDR %s", c->pod_cidr_text);
	else if (rc)
		cni_set_error(e, CNI_ERR_IO, strerror(-rc),
			      "IPAM: writing an allocation in %s failed", c->data_dir);
	return rc;
}

int ipam_release(const struct cni_conf *c, const char *id, const char *ifname)
{
	int fd = lock_dir(c), rc;
	uint32_t ip;

	if (fd < 0)
		return fd;
	/* every address this owner holds (normally one) */
	while ((rc = find_locked(c, id, ifname, &ip)) == 0) {
		char path[sizeof(c->data_dir) + 32];

		ip_path(c, ip, path, sizeof(path));
		if (unlink(path)) {
			rc = -errno;
			break;
		}
	}
	unlock_dir(fd);
	return rc == -ENOENT ? 0 : rc;
}
