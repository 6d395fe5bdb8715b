/* run.h - run one case under one variant on a target (a fresh sandbox, a lab host, a VM) and judge
 * every step. Owns the order of things: target, sysctls, wire; steps on a timeline; teardown. */
#ifndef TCPHARNESS_RUN_H
#define TCPHARNESS_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "capture_file.h"
#include "case.h"
#include "ip_address.h"
#include "outcome.h"

struct target;

struct run_options {
	struct target *target;    /* where the stack under test runs (target.h) */
	const char *captures_dir; /* captures go to <captures_dir>/<case name>[@variant][/family].pcapng (or
				   * .pcap, capture_format); NULL: none */
	int64_t tolerance_ns;     /* timing slack around expectations without an explicit window */
	bool name_families;       /* several families run: names and pcap paths carry the family */
	enum capture_format capture_format;
};

#define RUN_DEFAULT_TOLERANCE_NS (50 * 1000000LL)

/* FAIL: the stack did something other than the case says. ERROR: the harness or its environment could
 * not perform a line (late, its agent, capture or sandbox broke), which proves nothing about the stack.
 * SKIP: the stack or the harness lacks what the case needs, and the message says what. */
enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_SKIP, VERDICT_ERROR };
#define VERDICT_COUNT (VERDICT_ERROR + 1)

#define RUN_EVENT_TEXT 320

enum run_event_kind {
	RUN_EVENT_INJECTED, /* a segment a peer sent */
	RUN_EVENT_SEGMENT,  /* a segment the stack sent */
	RUN_EVENT_SILENCE,  /* no segment: a `none` line held, or an expected segment never came */
	RUN_EVENT_APP,      /* an application call returned */
	RUN_EVENT_STATE,    /* a socket state read over sock_diag */
	RUN_EVENT_COUNTER,  /* a counter delta read */
	RUN_EVENT_CLOCK,    /* two peers' TSvals from the stack compared */
	RUN_EVENT_STORM,    /* a storm of connection lifecycles ran (storm.h): counts and time */
	RUN_EVENT_TEARDOWN, /* a segment the stack sent after the last line, as the harness closed the
			     * application's sockets: shown, never judged */
};

/* One thing that happened during a run, in the case's own notation: what reports draw and list. */
struct run_event {
	enum run_event_kind kind;
	int64_t at_ns;                   /* since the case started */
	int step;                        /* index into the case's steps; -1: a segment no line expected */
	int peer;                        /* index into the case's peers; -1: none */
	bool broke;                      /* this event broke its line's expectation (or was unexpected) */
	bool unchecked;                  /* the stack cannot show this evidence: observed "unobservable",
					  * outcome OUTCOME_UNSEEN, never judged */
	int frame;                       /* its frame's index in the case's capture; -1: none */
	char expected[RUN_EVENT_TEXT];   /* the line's expectation; "" for injections */
	char observed[RUN_EVENT_TEXT];   /* `S. 0:0(0) ack 1 win 65160 <...>`, `-1 ETIMEDOUT`, `TIME_WAIT` */
	char outcome[OUTCOME_MAX];       /* the matrix word: ACCEPT, RST, DROP, EADDRNOTAVAIL, ... */
};

struct case_result {
	enum verdict verdict;
	char *message;      /* FAIL, ERROR: the diagnostic (multi-line); SKIP: the reason; malloc'd or NULL */
	char *pcap_path;    /* the capture file (pcapng or pcap); malloc'd or NULL */
	int64_t duration_ns;
	int steps_run;
	int failed_step;    /* index of the step that failed; -1 when none (or the failure was no step's) */
	struct run_event *events; /* in the order they happened; malloc'd */
	int event_count;
	/* The outcomes of the steps marked `outcome`, joined by `/` ("ACK", "RST/ETIMEDOUT"); "" when the
	 * case marks none or never reached them. */
	char outcome[4 * OUTCOME_MAX];
	/* Lines whose evidence the stack cannot show (no sock_diag, no such counter): they ran unjudged, so
	 * a PASS with unchecked > 0 proves less, and every report marks it. */
	int unchecked;
	char *unchecked_reason; /* why, each reason once, joined by "; "; malloc'd, NULL when unchecked is 0 */
};

/* Runs case c under variant index `variant` (-1 when the case declares none) in address family `family`
 * (ip_address.h), its steps for the target's
 * stack only (`{stack}` prefixes). Always fills *result (free with case_result_free); infrastructure
 * failures and the harness's own lateness are ERRORs whose message says what broke and by how much
 * the harness was late, missing privileges and missing stack features (a
 * requirement, a sysctl the stack lacks or will not set) are SKIPs with the reason. */
void run_case(const struct case_file *c, int variant, enum address_family family, const struct run_options *options,
	      struct case_result *result);

void case_result_free(struct case_result *r);

/* Set (to the signal's number) from a signal handler: the running case stops at its next step and is
 * reported as failed. */
extern volatile int run_interrupted;

#endif
