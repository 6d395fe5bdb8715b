/* worker_link.h - the harness end a worker thread keeps for all its local cases: a sandbox_link, the
 * wire on its harness end and an agent, so that libpcap's ring, the packet sockets and the agent's fork
 * are paid once per worker. */
#ifndef TCPHARNESS_WORKER_LINK_H
#define TCPHARNESS_WORKER_LINK_H

#include "agent.h"
#include "sandbox.h"
#include "wire.h"

struct worker_link {
	struct sandbox_link link;
	struct wire *wire;   /* on link's harness end; each case readies it with wire_begin_case */
	struct agent agent;  /* pid -1 until the first case (worker_link_agent) */
};

/* The calling thread's link and wire, opened on its first call (and again after a release). Each
 * thread has its own: a wire serves one case at a time. NULL with *error malloc'd (error may be NULL);
 * a thread that could not open one does not try again until it is released. */
struct worker_link *worker_link_get(char **error);

/* The worker's agent in target_netns_fd's namespace (a case's fresh target namespace), for one case:
 * forked on this thread at its first case, or again when the last case left it out of step
 * (agent->awaiting: target_case_end stops it), and moved into each later case's namespace
 * (agent_enter_netns), which closes the previous case's sockets. NULL with *error malloc'd. */
struct agent *worker_link_agent(struct worker_link *wl, int target_netns_fd, char **error);

/* Stops the calling thread's agent and closes its link and wire, if it has them: at the thread's end. The wire's sockets
 * are released in the background (wire_wait_released). */
void worker_link_release(void);

#endif
