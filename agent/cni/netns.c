/* Entering a pod's network namespace for a while. The plugin is single-threaded, so
 * setns on the calling thread switches the whole process and back. */
#include "agent/cni/net.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

int netns_run(const char *path, int (*fn)(void *arg), void *arg, int *fn_rc)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (self < 0 || target < 0) {
		rc = -errno;
		goto out;
	}
	if (setns(target, CLONE_NEWNET)) {
		rc = -errno;
		goto out;
	}
	*fn_rc = fn(arg);
	/* staying in the pod would wire the node's side in the wrong place: never go on */
	if (setns(self, CLONE_NEWNET))
		abort();
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return rc;
}
