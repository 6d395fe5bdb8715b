/* packet_grammar.h - the packet line shared by every notation: TCP flags, the sequence range, ack, win
 * and the `<...>` option list, read into a segment_spec (packetdrill's notation, DESIGN section 3). */
#ifndef TCPHARNESS_PACKET_GRAMMAR_H
#define TCPHARNESS_PACKET_GRAMMAR_H

#include <stdbool.h>

#include "case_lexer.h"
#include "segment.h"

/* Reads `FLAGS START:END(LEN) [ack N] [win N] [<OPTIONS>]` to the end of the statement into *spec
 * (zeroed by the caller). injected: a segment the harness sends, where `*` is not allowed.
 * Returns 0, or -1 with lx->error set. */
int packet_parse_segment(struct case_lexer *lx, bool injected, struct segment_spec *spec);

#endif
