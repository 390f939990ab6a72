/* Every few seconds the agent clears the monitor flag of a bpfletctl monitor that died
 * without clearing it (SIGKILL, a crash): events already stopped with its heartbeat,
 * this gives the programs back their monitor-off cost. */
#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/dataplane/mon_flag.h"

#include <event2/event.h>
#include <string.h>
#include <time.h>

#define REAP_PERIOD_S 5

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct bl_agent *a = arg;
	struct timespec ts;
	int pid;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	pid = bl_mon_clear_stale(a->dp.mon_fd,
				 (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	if (pid > 0)
		log_info("cleared the flag of a bpfletctl monitor (pid %d) that stopped without "
			 "clearing it",
			 pid);
	else if (pid < 0)
		log_warn("reading the monitor flag: %s", strerror(-pid));
}

int bl_mon_reaper_start(struct bl_agent *a)
{
	struct timeval period = {REAP_PERIOD_S, 0};

	a->mon_reap_ev = event_new(a->base, -1, EV_PERSIST, on_reap, a);
	return a->mon_reap_ev && !event_add(a->mon_reap_ev, &period) ? 0 : -1;
}
