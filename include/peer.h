/* peer.h - one simulated remote host's view of its connection: its ISN and sequence space, its
 * timestamp clock, and what it has learned of the stack under test (ISN, TSval, port). */
#ifndef TCPHARNESS_PEER_H
#define TCPHARNESS_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"
#include "ip_address.h"
#include "segment.h"
#include "tcp_fastopen_cookie.h"

struct peer_state {
	const struct peer_decl *decl;
	struct ip_address address;  /* decl's address in the run's family (family_address) */
	uint32_t isn;               /* this incarnation's ISN */
	uint32_t snd_nxt;           /* highest sequence number sent + 1 (SYN and FIN count) */
	bool sent_anything;
	bool kernel_isn_known;      /* until the stack's SYN is seen, its ISN counts as 0 */
	uint32_t kernel_isn;
	uint16_t target_port;       /* 0 until declared or learned */
	uint16_t port;              /* its own: decl->port, the next one after each peer_new_passive_open */
	bool kernel_tsval_known;
	uint32_t kernel_tsval;      /* last TSval the stack sent this peer: `ecr auto` when injecting */
	bool own_tsval_known;
	uint32_t own_tsval;         /* last TSval this peer sent: `ecr auto` when expecting */
	int64_t ts_jump;            /* sum of clock jumps */
	bool stack_cookie_known;    /* the Fast Open cookie the stack gives this peer (option_spec's) */
	uint8_t stack_cookie[TCP_FASTOPEN_COOKIE_SIZE];
	/* The connection's first TS val the stack sent, and what the script wrote for it (peer_map_ts_ticks) */
	bool ts_baseline_known;
	uint32_t ts_script_first, ts_actual_first;
	bool awaiting_active_open;  /* decl->follows_active_opens: the app connected; until the stack's
				     * SYN, segments of earlier connections are not this peer's */
	/* Every peer of the run, this one included, indexed as the case declares them: what
	 * `ecr auto from PEER` reads (NULL, as peer_init leaves it: no other peer to read). */
	const struct peer_state *all;
};

/* packetdrill's check of the stack's TS val under --tcp_ts_tick_usecs (run_packet.c,
 * verify_outbound_tcp_option): the connection's first TS val the stack sends stands for the one the
 * script wrote there; a later one, moved into the script's terms by that offset, must be within
 * ts_tolerance_usecs of the script's, counted in ticks. Where it is, expected's TS val becomes the
 * observed one; where it is not, the value the script's stands for, so the diff shows both. */
void peer_map_ts_ticks(struct peer_state *p, struct segment_spec *expected, const struct segment_spec *observed);

/* A new connection to the stack's listener from the peer's next port (a .pkt's SYN after the script
 * listened again: packetdrill gives each its own ephemeral port, run_packet.c), nothing sent on it yet. */
void peer_new_passive_open(struct peer_state *p);

/* A peer before anything was sent, at its address in family. */
void peer_init(struct peer_state *p, const struct peer_decl *decl, enum address_family family);

/* The peer's TS clock `since_start_ns` after the case started: start + rate * t + jumps (mod 2^32). */
uint32_t peer_tsval(const struct peer_state *p, int64_t since_start_ns);

/* Turns an injected line into a wire segment from this peer to target: relative seq/ack made
 * absolute, `auto` and `+N` TS values filled (`ecr auto from Q`: the last TSval the stack sent Q),
 * win defaulted to 65535. Records what was sent.
 * Returns 0, or -1 with *error a static message (e.g. "no target port known yet"). */
int peer_build_segment(struct peer_state *p, const struct segment_spec *spec, const struct ip_address *target,
		       int64_t since_start_ns, struct segment *out, const char **error);

/* True when a segment from the stack is addressed to this peer (and, once known, from its target port). */
bool peer_owns(const struct peer_state *p, const struct segment *from_stack);

/* Learns from a segment the stack sent this peer: its ISN (from a SYN), its port, its TSval. Call it
 * before peer_relative_view so a SYN-ACK reads as seq 0. */
void peer_learn(struct peer_state *p, const struct segment *from_stack);

/* The relative view of a segment from the stack, in case-language terms (seq relative to the stack's
 * ISN, ack relative to ours, every option a literal). */
void peer_relative_view(const struct peer_state *p, const struct segment *from_stack, struct segment_spec *out);

/* The relative view of a segment this peer sent (as built by peer_build_segment): seq relative to
 * its own ISN, ack to the stack's. */
void peer_injected_view(const struct peer_state *p, const struct segment *sent, struct segment_spec *out);

/* An expected line with `ecr auto` replaced by the last TSval this peer sent (`ecr auto from Q`: Q sent;
 * 0 when it sent none). */
void peer_resolve_expected(const struct peer_state *p, const struct segment_spec *expected, struct segment_spec *out);

/* A new connection on the same 4-tuple: ISN = previous snd_nxt + seq_delta, clock jumps by ts_delta.
 * The stack's old ISN and TSval stay in force until its next SYN, so a reply from the old connection
 * (a TIME_WAIT socket's ACK) still reads in the old connection's numbers. */
void peer_new_incarnation(struct peer_state *p, int64_t seq_delta, int64_t ts_delta);

#endif
