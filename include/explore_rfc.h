/* explore_rfc.h - what RFC 9293 section 3.10 says a TCP does with each explored event in each state,
 * with RFC 5961 (blind in-window attacks) and RFC 7323 (PAWS) where 9293 defers to them: the column
 * `explore --diff` holds every target's answer against. */
#ifndef TCPHARNESS_EXPLORE_RFC_H
#define TCPHARNESS_EXPLORE_RFC_H

#include "explore.h"

struct explore_rfc_answer {
	const char *reply;   /* ACCEPT (a SYN-ACK), ACK, RST, DROP: the words of outcome.h */
	const char *state;   /* the state after, as sock_diag names it (NONE: no connection left) */
	const char *section; /* "RFC 9293 3.10.7.4, first check (sequence number)" */
};

/* The RFC's answer for the event in the row's state. */
void explore_rfc_expect(const struct explore_row *row, const struct explore_event *event,
			struct explore_rfc_answer *out);

#endif
