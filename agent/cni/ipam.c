/* Host-local IPAM: one file per allocated address (named after it, holding its
 * owner "containerid/ifname") under data_dir; an flock'd lock file serializes
 * concurrent plugin runs so no address is handed out twice. */
#include "agent/cni/cni.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int lock_dir(const struct cni_conf *c)
{
	char path[300];
	int fd, err = bl_mkdir_p(c->data_dir, 0700);

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/lock", c->data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void unlock_dir(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

/* Scan the allocations for owner; caller holds the lock. */
static int find_locked(const struct cni_conf *c, const char *owner, uint32_t *ip)
{
	struct dirent *de;
	DIR *d = opendir(c->data_dir);
	int rc = -ENOENT;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[600], buf[300];
		struct in_addr a;
		ssize_t n;
		int fd;

		if (inet_pton(AF_INET, de->d_name, &a) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->data_dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (!strcmp(buf, owner)) {
			*ip = ntohl(a.s_addr);
			rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

int ipam_find(const struct cni_conf *c, const char *owner, uint32_t *ip)
{
	int fd = lock_dir(c), rc;

	if (fd < 0)
		return fd;
	rc = find_locked(c, owner, ip);
	unlock_dir(fd);
	return rc;
}

int ipam_alloc(const struct cni_conf *c, const char *owner, uint32_t *ip, struct cni_error *e)
{
	uint32_t size = 1u << (32 - c->pod_cidr.plen);
	int fd = lock_dir(c), rc = -ENOSPC;

	if (fd < 0) {
		cni_set_error(e, CNI_ERR_IO, strerror(-fd), "IPAM state in %s is not usable",
			      c->data_dir);
		return fd;
	}
	if (find_locked(c, owner, ip) == 0) { /* a repeated ADD gets the same address */
		unlock_dir(fd);
		return 0;
	}
	/* network address, the first host (gateway convention) and broadcast stay free */
	for (uint32_t off = 2; off < size - 1; off++) {
		char path[300], text[INET_ADDRSTRLEN];
		struct in_addr a = {.s_addr = htonl(c->pod_cidr.net + off)};
		int f;

		inet_ntop(AF_INET, &a, text, sizeof(text));
		snprintf(path, sizeof(path), "%s/%s", c->data_dir, text);
		f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (f < 0) {
			if (errno == EEXIST)
				continue;
			rc = -errno;
			break;
		}
		if (dprintf(f, "%s\n", owner) < 0 || fsync(f)) {
			rc = -errno;
			close(f);
			unlink(path);
			break;
		}
		close(f);
		*ip = c->pod_cidr.net + off;
		rc = 0;
		break;
	}
	unlock_dir(fd);
	if (rc == -ENOSPC)
		cni_set_error(e, CNI_ERR_OTHER, NULL, "no free address left in podCIDR %s",
			      c->pod_cidr_text);
	else if (rc)
		cni_set_error(e, CNI_ERR_IO, strerror(-rc), "IPAM write in %s failed",
			      c->data_dir);
	return rc;
}

int ipam_release(const struct cni_conf *c, const char *owner)
{
	int fd = lock_dir(c), rc;
	uint32_t ip;

	if (fd < 0)
		return fd;
	rc = find_locked(c, owner, &ip);
	if (rc == 0) {
		char path[300], text[INET_ADDRSTRLEN];
		struct in_addr a = {.s_addr = htonl(ip)};

		inet_ntop(AF_INET, &a, text, sizeof(text));
		snprintf(path, sizeof(path), "%s/%s", c->data_dir, text);
		rc = unlink(path) ? -errno : 0;
	} else if (rc == -ENOENT) {
		rc = 0; /* releasing twice is fine */
	}
	unlock_dir(fd);
	return rc;
}
