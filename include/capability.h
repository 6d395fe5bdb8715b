/* capability.h - which TCP options the stack under test offers, learned on the wire from its SYN-ACK to
 * a probe SYN that offers them all: what `require option` decides by, rather than lists of stacks. */
#ifndef TCPHARNESS_CAPABILITY_H
#define TCPHARNESS_CAPABILITY_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"
#include "segment.h"
#include "target.h"

/* The port the agent listens on for the probe, and the probe's source port. */
#define CAPABILITY_PROBE_PORT 9
#define CAPABILITY_PROBE_SOURCE_PORT 1

#define CAPABILITY_TEXT 160

struct capability_report {
	struct segment syn_ack;          /* the stack's answer, as captured */
	char offered[CAPABILITY_TEXT];   /* the probe SYN's options: `<mss 1460,sackOK,TS val 1 ecr 0,...>` */
	char answered[CAPABILITY_TEXT];  /* the SYN-ACK's options, in the same notation */
};

/* Sends the probe from `from`'s address (source port CAPABILITY_PROBE_SOURCE_PORT) to a listener the
 * agent opens on CAPABILITY_PROBE_PORT, waits up to 3 s for the SYN-ACK, then resets the half-open
 * connection and closes the listener, so the case starts with neither. Uses tc's wire (readied for the
 * probe, recording nothing), or one of its own where tc has none; no pcap file either way. Returns 0 with *out, or -1 with *error malloc'd (no SYN-ACK: the target is broken, not
 * lacking an option). */
int capability_probe(const struct target_case *tc, const struct peer_decl *from, struct capability_report *out,
		     char **error);

/* Whether the SYN-ACK carried an option of this kind (TCP_OPTION_*). */
bool capability_carried(const struct capability_report *r, uint8_t kind);

/* Why a case that requires r's option cannot run on this stack ("requires TCP option timestamps: the
 * stack's SYN-ACK to <...> carried <...>"), malloc'd; NULL when the SYN-ACK carried it (or out of
 * memory). */
char *capability_missing(const struct capability_report *report, const struct requirement *r);

#endif
