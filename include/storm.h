/* storm.h - storm mode: thousands of whole connection lifecycles (handshake, the stack's close, our
 * FIN, TIME_WAIT) driven with batched crafted segments, every segment from the stack still checked. */
#ifndef TCPHARNESS_STORM_H
#define TCPHARNESS_STORM_H

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "segment.h"
#include "wire.h"

/* One storm: count connections from peer_ip, source ports first_port .. first_port + count - 1, to a
 * listener at target_ip:target_port. Ports in host order. */
/* How long the storm waits for the stack's answers to a chunk before it calls one missing. */
#define STORM_WAIT_NS 2000000000LL

struct storm_plan {
	struct ip_address target_ip;
	uint16_t target_port;
	struct ip_address peer_ip;
	uint16_t first_port;
	uint32_t count;
	uint32_t isn;             /* every connection's ISN: their ports keep them apart */
	const char *listener;     /* the agent handle listening on target_port (storm_listen makes one) */
	uint32_t max_pps;         /* our segments per second at most (a lab's send budget); 0: unpaced */
};

/* Where a connection is in its lifecycle; the stack's next segment to it depends on this alone. */
enum storm_conn_step {
	CONN_IDLE,
	CONN_SYN_SENT,      /* waits for the SYN-ACK */
	CONN_SYN_ACKED,
	CONN_ESTABLISHED,   /* our ACK sent */
	CONN_CLOSING,       /* the application may have closed it: waits for the FIN */
	CONN_FIN_RECEIVED,
	CONN_FIN_SENT,      /* our FIN-ACK sent: waits for the final ACK */
	CONN_DONE,
};

/* What a segment from the stack is to a connection at a step. */
enum storm_segment_fit {
	STORM_SEGMENT_AWAITED,    /* the one the step waits for */
	STORM_SEGMENT_AGAIN,      /* a SYN-ACK or FIN the stack may send again at this step */
	STORM_SEGMENT_CROSSED,    /* the FIN again, acking 1, after the final ACK: resent before that ACK, and
				   * put behind it by the link or by the stack, which cannot be told */
	STORM_SEGMENT_UNEXPECTED, /* the step waits for nothing */
	STORM_SEGMENT_DIFFERS,    /* not the one the step waits for (judge.h's diff says how) */
};

/* Classifies seen, a segment from the stack in the connection's relative numbers (the storm's ISN
 * 0, the stack's ISN learned from its SYN-ACK). Pure. */
enum storm_segment_fit storm_segment_fit(enum storm_conn_step step, const struct segment_spec *seen);

struct storm_result {
	/* How many connections reached each point of their lifecycle. */
	uint32_t established;      /* SYN-ACK checked and our ACK sent */
	uint32_t closed_by_stack;  /* the application closed it and the stack's FIN was checked */
	uint32_t time_wait_acked;  /* the stack's ACK of our FIN was checked: the stack closed first */
	uint32_t retransmissions;  /* SYN-ACKs and FINs the stack sent again; counted once above */
	uint32_t acks_again;       /* our handshake's ACK sent again, for a SYN-ACK sent again after it */
	int64_t elapsed_ns;        /* first SYN sent to the last final ACK captured */
	/* When the stack broke an expectation: which phase, which connection, and the expected against the
	 * observed segment with carets under the differing fields (judge.h); "" otherwise. */
	char mismatch[768];
	bool missing;              /* the mismatch is a segment that never came within the wait */
	bool crossed;              /* the mismatch is the stack's FIN again, acking 1, after its final ACK:
				    * a resend the link may have put behind that ACK */
};

/* The frames a wire's capture ring must hold (wire_open) for a storm of count connections to go in
 * chunks of the most connections a storm sends at once (64): three per connection of a chunk. */
uint32_t storm_ring_frames(uint32_t count);

/* Connections per chunk for a storm of count connections on a wire whose ring holds ring_frames:
 * as many as the ring has room for, at most count and 64, at least 1. */
uint32_t storm_chunk(uint32_t count, uint32_t ring_frames);

/* Runs the storm in four phases, each over every connection, in chunks the capture ring holds
 * (storm_chunk of the wire's ring; wire_open sized by storm_ring_frames makes them 64 connections):
 *   1. our SYN <mss 1460>             -> the stack's S. 0:0(0) ack 1 (its ISN is learned here)
 *   2. our ACK completing the handshake  (the stack stays silent)
 *   3. the agent accepts and closes   -> the stack's F. 1:1(0) ack 1
 *   4. our F. 1:1(0) ack 2            -> the stack's . 2:2(0) ack 2: it holds the TIME_WAIT, or
 *                                        (tcp_max_tw_buckets reached) no socket at all
 * A paced storm (max_pps) runs the four phases over waves of connections in turn, never sending more
 * than max_pps of our segments in any one second.
 * Every captured segment from the stack must belong to one connection and be the one its phase
 * expects; a SYN-ACK or FIN sent again is counted once, and a SYN-ACK sent again after our ACK gets
 * the ACK again, as a real peer answers it. Our own injected frames are skipped. Whatever
 * the capture still holds when the storm starts is read as part of it, so the caller drains it first.
 * The wire's pcap file gets every frame. Needs a listener with a backlog of at least count (see
 * storm_listen) and 4-tuples with no socket on the stack yet.
 * Returns 0 when every connection went through every phase as expected; 1 when the stack broke an
 * expectation or a segment was missing after 2 s (out->mismatch says which; the counts say how far
 * the storm got); -1 with *error malloc'd when the harness could not run it (plan, capture, injection,
 * agent). *out is filled in every case. */
int storm_run(struct wire *w, struct agent *agent, const struct storm_plan *plan, struct storm_result *out,
	      char **error);

/* Raises net.core.somaxconn and net.ipv4.tcp_max_syn_backlog to count where they are lower (through
 * the agent, which restores them), so a listener's backlog of count is not capped. 0, or -1. */
int storm_raise_limits(struct agent *agent, uint32_t count, char **error);

/* Makes a listener for a storm of count connections: raises net.core.somaxconn and
 * net.ipv4.tcp_max_syn_backlog to count where they are lower (through the agent, which restores
 * them), so no SYN meets a full queue or a syncookie, then listens on port under handle with backlog
 * count. Returns 0, or -1 with *error malloc'd. */
int storm_listen(struct agent *agent, const char *handle, uint16_t port, uint32_t count, char **error);

#endif
