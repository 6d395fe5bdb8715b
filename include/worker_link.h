/* worker_link.h - the harness end a worker thread keeps for all its local cases: a sandbox_link and the
 * wire on its harness end, so that libpcap's ring and the packet sockets are set up once per worker. */
#ifndef TCPHARNESS_WORKER_LINK_H
#define TCPHARNESS_WORKER_LINK_H

#include "sandbox.h"
#include "wire.h"

struct worker_link {
	struct sandbox_link link;
	struct wire *wire;   /* on link's harness end; each case readies it with wire_begin_case */
};

/* The calling thread's link and wire, opened on its first call (and again after a release). Each
 * thread has its own: a wire serves one case at a time. NULL with *error malloc'd (error may be NULL);
 * a thread that could not open one does not try again until it is released. */
struct worker_link *worker_link_get(char **error);

/* Closes the calling thread's link and wire, if it has them: at the thread's end. The wire's sockets
 * are released in the background (wire_wait_released). */
void worker_link_release(void);

#endif
