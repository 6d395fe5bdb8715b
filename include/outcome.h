/* outcome.h - the one word a matrix cell shows for what the stack did at a step: ACCEPT (a SYN-ACK),
 * ACK, RST, FIN, SYN, DROP (silence), an errno name, OK/EOF for an application call, a TCP state. */
#ifndef TCPHARNESS_OUTCOME_H
#define TCPHARNESS_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"

#define OUTCOME_MAX 32

/* A segment from the stack, by its flags: RST wins over everything, then SYN-ACK (ACCEPT), SYN, FIN,
 * and anything else with ACK (a pure ACK, a challenge ACK, data) is ACK. */
const char *outcome_of_segment(uint8_t flags);

/* The stack said nothing where a segment could have come. */
#define OUTCOME_DROP "DROP"

/* The stack cannot show this evidence (an unchecked line: no sock_diag, no such counter). Not "n/a":
 * a cell joins outcomes with '/'. */
#define OUTCOME_UNSEEN "UNSEEN"

/* An application call's result: the errno name when it failed, EOF for a recv that returned 0,
 * OK otherwise (a non-blocking connect's EINPROGRESS is OK: it started). */
void outcome_of_app(enum app_op op, int err, int64_t ret, char out[OUTCOME_MAX]);

#endif
