#include "agent/endpoints.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

struct bl_endpoint {
	struct bl_endpoint_msg m;
	UT_hash_handle hh; /* by m.container_id */
};

static int state_path(const struct bl_endpoints *eps, const char *id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.json", eps->state_dir, id);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* container ids become file names */
static bool id_safe(const char *id)
{
	if (!id[0] || strlen(id) > 100)
		return false;
	for (const char *p = id; *p; p++)
		if (*p == '/' || (p == id && *p == '.'))
			return false;
	return true;
}

static int save(const struct bl_endpoints *eps, const struct bl_endpoint_msg *m)
{
	char path[320], tmp[340];
	char *line = bl_endpoint_msg_encode(m);
	FILE *f;
	int err = 0;

	if (!line)
		return -ENOMEM;
	err = state_path(eps, m->container_id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!err) {
		f = fopen(tmp, "w");
		if (!f || fputs(line, f) < 0)
			err = -errno;
		if (f && fclose(f) && !err)
			err = -errno;
		if (!err && rename(tmp, path))
			err = -errno;
	}
	free(line);
	return err;
}

static void forget(struct bl_endpoints *eps, struct bl_endpoint *ep)
{
	char path[320];

	if (!state_path(eps, ep->m.container_id, path, sizeof(path)))
		unlink(path);
	HASH_DEL(eps->by_id, ep);
	free(ep);
}

static struct bl_endpoint *find(struct bl_endpoints *eps, const char *id)
{
	struct bl_endpoint *ep;

	HASH_FIND_STR(eps->by_id, id, ep);
	return ep;
}

static int remember(struct bl_endpoints *eps, const struct bl_endpoint_msg *m)
{
	struct bl_endpoint *ep = find(eps, m->container_id);

	if (!ep) {
		ep = calloc(1, sizeof(*ep));
		if (!ep)
			return -ENOMEM;
		ep->m = *m;
		HASH_ADD_STR(eps->by_id, m.container_id, ep);
	} else {
		ep->m = *m;
	}
	return 0;
}

static int do_add(struct bl_endpoints *eps, const struct bl_endpoint_msg *m, char *err,
		  size_t errlen)
{
	unsigned idx = if_nametoindex(m->ifname);
	int rc;

	if (!idx || (m->ifindex && (int)idx != m->ifindex)) {
		snprintf(err, errlen,
			 "interface %s (ifindex %d) not found in the agent's network "
			 "namespace",
			 m->ifname, m->ifindex);
		return -ENODEV;
	}
	rc = bl_dp_attach_pod(eps->dp, m->ifname, (int)idx);
	if (rc) {
		snprintf(err, errlen, "attaching the pod program to %s failed: %s", m->ifname,
			 strerror(-rc));
		return rc;
	}
	struct bl_endpoint_msg copy = *m;

	copy.ifindex = (int)idx;
	rc = save(eps, &copy);
	if (!rc)
		rc = remember(eps, &copy);
	if (rc) {
		bl_dp_detach_pod(eps->dp, m->ifname, (int)idx);
		snprintf(err, errlen, "recording endpoint %s failed: %s", m->container_id,
			 strerror(-rc));
		return rc;
	}
	log_info("endpoint %s/%s ip %s on %s (ifindex %u) attached", m->pod_namespace, m->pod_name,
		 m->ip, m->ifname, idx);
	return 0;
}

static void do_del(struct bl_endpoints *eps, struct bl_endpoint *ep)
{
	unsigned idx = if_nametoindex(ep->m.ifname);

	bl_dp_detach_pod(eps->dp, ep->m.ifname, idx ? (int)idx : -1);
	log_info("endpoint %s/%s on %s removed", ep->m.pod_namespace, ep->m.pod_name, ep->m.ifname);
	forget(eps, ep);
}

int bl_endpoints_handle(struct bl_endpoints *eps, const struct bl_endpoint_msg *m, char *err,
			size_t errlen)
{
	struct bl_endpoint *ep;

	if (!id_safe(m->container_id)) {
		snprintf(err, errlen, "container_id '%s' is not usable", m->container_id);
		return -EINVAL;
	}
	ep = find(eps, m->container_id);
	switch (m->op) {
	case BL_EP_ADD:
		if (!m->ifname[0]) {
			snprintf(err, errlen, "field ifname: missing");
			return -EINVAL;
		}
		if (ep && strcmp(ep->m.ifname, m->ifname))
			do_del(eps, ep);
		return do_add(eps, m, err, errlen);
	case BL_EP_DEL:
		if (ep)
			do_del(eps, ep);
		return 0; /* DEL is idempotent */
	case BL_EP_CHECK:
		if (!ep) {
			snprintf(err, errlen, "endpoint %s is not registered", m->container_id);
			return -ENOENT;
		}
		if ((int)if_nametoindex(ep->m.ifname) != ep->m.ifindex) {
			snprintf(err, errlen, "interface %s of endpoint %s is gone", ep->m.ifname,
				 m->container_id);
			return -ENODEV;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown operation");
	return -EINVAL;
}

int bl_endpoints_init(struct bl_endpoints *eps, const char *instance, struct bl_dataplane *dp)
{
	char run[128], path[400], line[2048], err[256];
	struct dirent *de;
	DIR *d;
	int rc;

	memset(eps, 0, sizeof(*eps));
	eps->dp = dp;
	bl_run_dir(run, sizeof(run), instance);
	snprintf(eps->state_dir, sizeof(eps->state_dir), "%s/endpoints", run);
	rc = bl_mkdir_p(eps->state_dir, 0700);
	if (rc)
		return rc;
	d = opendir(eps->state_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct bl_endpoint_msg m;
		size_t n = strlen(de->d_name);
		FILE *f;

		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", eps->state_dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(line, sizeof(line), f) ||
		    bl_endpoint_msg_decode(line, &m, err, sizeof(err))) {
			fclose(f);
			log_warn("dropping unreadable endpoint record %s", path);
			unlink(path);
			continue;
		}
		fclose(f);
		if ((int)if_nametoindex(m.ifname) != m.ifindex) {
			log_info("endpoint %s: %s is gone, forgetting it", m.container_id,
				 m.ifname);
			unlink(path);
			continue;
		}
		if (do_add(eps, &m, err, sizeof(err)))
			log_warn("endpoint %s: %s", m.container_id, err);
	}
	closedir(d);
	log_info("%zu pod endpoints re-adopted", bl_endpoints_count(eps));
	return 0;
}

void bl_endpoints_detach_all(struct bl_endpoints *eps)
{
	struct bl_endpoint *ep, *tmp;

	HASH_ITER(hh, eps->by_id, ep, tmp)
	do_del(eps, ep);
}

void bl_endpoints_free(struct bl_endpoints *eps)
{
	struct bl_endpoint *ep, *tmp;

	HASH_ITER(hh, eps->by_id, ep, tmp)
	{
		HASH_DEL(eps->by_id, ep);
		free(ep);
	}
}

size_t bl_endpoints_count(const struct bl_endpoints *eps)
{
	return HASH_COUNT(eps->by_id);
}

void bl_endpoints_foreach(const struct bl_endpoints *eps,
			  void (*fn)(const struct bl_endpoint_msg *m, void *ctx), void *ctx)
{
	struct bl_endpoint *ep, *tmp;

	HASH_ITER(hh, eps->by_id, ep, tmp)
	fn(&ep->m, ctx);
}
