/* worker_link.c - see worker_link.h. Why once per worker: setting up libpcap's PACKET_RX_RING waits for
 * an RCU grace period (packet_set_ring -> synchronize_net, about 10 ms), and so does releasing each
 * packet socket (packet_release). A case's own pair joins the link's bridge instead: no grace period
 * on its way (moving one pair between namespaces per case was tried: dev_change_net_namespace waits in
 * rcu_barrier, 20-40 ms per move on this machine). */
#include "worker_link.h"

#include <stdbool.h>
#include <stdlib.h>

#include "error_text.h"

static _Thread_local struct worker_link *current;
static _Thread_local bool unavailable;

struct worker_link *worker_link_get(char **error)
{
	if (current)
		return current;
	if (unavailable) {
		error_set(error, "no worker link on this thread (opening one failed)");
		return NULL;
	}
	unavailable = true;
	struct worker_link *wl = calloc(1, sizeof *wl);
	if (!wl) {
		error_set(error, "out of memory");
		return NULL;
	}
	wl->agent = (struct agent){ .pid = -1, .fd = -1 };
	/* The target end's MAC is each case's (wire_begin_case). */
	static const uint8_t unknown_mac[6];
	if (sandbox_link_open(&wl->link, error) < 0) {
		free(wl);
		return NULL;
	}
	wl->wire = wire_open(wl->link.harness_netns_fd, wl->link.bridge_ifname, wl->link.bridge_mac, unknown_mac,
			     false, 0, error);
	if (!wl->wire) {
		sandbox_link_close(&wl->link);
		free(wl);
		return NULL;
	}
	current = wl;
	unavailable = false;
	return wl;
}

/* A fork per case cost more than the rest of a case's setup together: the copy of a large harness's
 * page tables, then a copy-on-write fault for every page the harness wrote while the agent lived, and
 * the agent's exit. A request per case moves the one agent on instead. */
struct agent *worker_link_agent(struct worker_link *wl, int target_netns_fd, char **error)
{
	if (wl->agent.pid > 0) {
		char *why = NULL;
		if (agent_enter_netns(&wl->agent, target_netns_fd, &why) == 0)
			return &wl->agent;
		/* Whatever broke it, a fresh one is forked into the namespace instead. */
		free(why);
		agent_stop(&wl->agent);
	}
	return agent_spawn_local(target_netns_fd, &wl->agent, error) == 0 ? &wl->agent : NULL;
}

void worker_link_release(void)
{
	unavailable = false;
	if (!current)
		return;
	agent_stop(&current->agent);
	wire_close(current->wire);
	sandbox_link_close(&current->link);
	free(current);
	current = NULL;
}
