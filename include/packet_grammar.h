/* packet_grammar.h - the packet line shared by every notation: TCP flags, the sequence range, ack, win
 * and the `<...>` option list, read into a segment_spec (packetdrill's notation, DESIGN section 3). */
#ifndef TCPHARNESS_PACKET_GRAMMAR_H
#define TCPHARNESS_PACKET_GRAMMAR_H

#include <stdbool.h>

#include "case_lexer.h"
#include "segment.h"

/* The two notations differ in details only. PKT follows packetdrill (its syntax.md, tcp_packet_spec):
 * `<...>` means any options, an expected segment without options must carry none, and what a
 * segment_spec cannot carry (urg, FO, md5) is unsupported (lx->unsupported) instead of an error. */
enum packet_notation { PACKET_NOTATION_TC, PACKET_NOTATION_PKT };

/* The peers a `TS ... ecr auto from PEER` may name (.tc only): index() gives a name's index in the
 * case's peers, or -1. */
struct packet_peers {
	int (*index)(const void *context, struct token name);
	const void *context;
};

/* Reads `FLAGS START:END(LEN) [ack N] [win N] [<OPTIONS>]` to the end of the statement into *spec
 * (zeroed by the caller). injected: a segment the harness sends, where `*` is not allowed. peers: the
 * names `ecr auto from PEER` may use (NULL: none, as in PKT); the peer's index + 1 goes into the ecr's
 * spec_value (SPEC_AUTO; 0: the line's own peer).
 * Returns 0, or -1 with lx->error (or, in PKT, lx->unsupported) set. */
int packet_parse_segment(struct case_lexer *lx, enum packet_notation notation, bool injected,
			 const struct packet_peers *peers, struct segment_spec *spec);

#endif
