/* explore.h - the TCP state x event table as data: a recipe per state (the case lines that drive the
 * stack there, as server or as client) and a segment per event, written relative to that state's own
 * numbers. Each cell is a case file's text; explore adds observing steps and reads back what the
 * stack did. */
#ifndef TCPHARNESS_EXPLORE_H
#define TCPHARNESS_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"
#include "run.h"

enum explore_role { EXPLORE_SERVER = 1, EXPLORE_CLIENT = 2 };

/* One row: a state the harness drives the stack into, in one role. The numbers are the stack's at
 * the end of the recipe: RCV.NXT relative to the peer's ISN, SND.UNA and SND.NXT to the stack's. */
struct explore_state {
	const char *name;         /* "ESTABLISHED", as sock_diag names it */
	enum explore_role role;
	const char *parent;       /* the state of the same role whose recipe comes first, or NULL */
	const char *recipe;       /* case lines after the parent's, '\n'-separated */
	uint32_t rcv_nxt, snd_una, snd_nxt;
	bool connection;          /* the 4-tuple has a connection (not CLOSED, LISTEN) */
};

enum explore_ack { EXPLORE_NO_ACK, EXPLORE_ACK_SND_UNA, EXPLORE_ACK_SND_NXT };
/* The event's TSval against TS.Recent (the value every recipe segment carries). */
enum explore_ts { EXPLORE_TS_NEWER, EXPLORE_TS_EQUAL, EXPLORE_TS_OLDER, EXPLORE_TS_NONE };

/* One column: a segment from the peer, relative to the state's numbers. */
struct explore_event {
	const char *name;         /* "rst-in-window" */
	const char *what;         /* "RST in the window, above RCV.NXT" */
	const char *flags;        /* in case notation: "R", "S.", "P." */
	bool seq_from_isn;        /* seq counts from the peer's ISN (a SYN-ACK), not from RCV.NXT */
	int64_t seq_offset;
	uint32_t length;
	enum explore_ack ack;
	int64_t ack_offset;
	enum explore_ts ts;
};

extern const struct explore_state explore_states[];
extern const int explore_state_count;
extern const struct explore_event explore_events[];
extern const int explore_event_count;

/* A row of the table: a state in one role (a state row both roles reach is two table rows). */
struct explore_row {
	const struct explore_state *state;
	enum explore_role role;
};

#define EXPLORE_MAX_ROWS 32

/* The table's rows, server first, each role in lifecycle order. Returns their number. */
int explore_rows(struct explore_row rows[EXPLORE_MAX_ROWS]);

/* "server" or "client". */
const char *explore_role_name(enum explore_role role);

/* The TSval every recipe segment carries: TS.Recent at the event. */
#define EXPLORE_TS_RECENT 100000

/* The case file of one cell: a header, the peer, the state's recipe (its parents' first) and the
 * event. observing: with the lines explore_cell_case turns into observers after the event, each
 * marked `# observe`: the segments within EXPLORE_WINDOW_NS, the state, the counters. Malloc'd; NULL
 * when out of memory. name_out (malloc'd, may be NULL) gets the cell's name,
 * `server-established/rst-in-window`, also its path below an emit directory without `.tc`. */
char *explore_cell_text(const struct explore_row *row, const struct explore_event *event, bool observing,
			char **name_out);

/* Counters every cell reads after its event; those that moved are the cell's. */
extern const char *const explore_counters[];
extern const int explore_counter_count;

/* How long a cell listens for the stack's answers to its event. Short of the 200 ms minimum RTO, so
 * that no retransmission of the recipe's own segments lands in it. A stack that ACKs later (lwIP's
 * delayed ACK) listens longer: explore.c's explore_slow_stacks, as `{stack}` lines in the cell. */
#define EXPLORE_WINDOW_NS (100 * 1000000LL)

/* Parses an observing cell text; the lines marked `# observe` record instead of judging (step.observe).
 * Returns 0 with *out (case_free), or -1 with *error malloc'd. */
int explore_cell_case(const char *path, const char *text, struct case_file *out, char **error);

#define EXPLORE_MAX_REPLIES 4
#define EXPLORE_MAX_MOVED 8

/* What one cell showed, in terms that do not change from run to run: the stack's TSvals and windows
 * are left out of the replies. */
struct explore_observation {
	/* UNREACHED: the stack answered a recipe line otherwise (a FAIL before the event, twice), so this
	 * target cannot be driven into the state that way (lwIP has no simultaneous open); shown as SKIP.
	 * RECIPE_FAILED: the harness could not run the recipe (an ERROR); shown as ERROR. */
	enum { EXPLORE_OBSERVED, EXPLORE_RECIPE_FAILED, EXPLORE_SKIPPED, EXPLORE_UNREACHED } status;
	char replies[EXPLORE_MAX_REPLIES][RUN_EVENT_TEXT]; /* `R 2:2(0)`, `. 1:1(0) ack 2 <nop,nop,TS val * ecr 100000>` */
	int reply_count;
	char reply[64];       /* the outcome words of the replies joined by '+' (`ACK`, `RST`), or DROP */
	char state_after[OUTCOME_MAX]; /* sock_diag's name; UNSEEN where the stack cannot show it */
	struct {
		char name[64];    /* as the case line names it */
		int64_t delta;    /* since the case started: moved by the event, as no recipe moves one */
	} moved[EXPLORE_MAX_MOVED];
	int moved_count;
	char why[RUN_EVENT_TEXT]; /* recipe failed, unreached or skipped: the first line of the reason */
};

/* Reads a cell's observation from the result of running explore_cell_case's case. */
void explore_observe(const struct case_file *c, const struct case_result *result,
		     struct explore_observation *out);

/* The cell as an ordinary case: its text with the observation as expectations (every reply, silence
 * after them, the state, the counters that moved, the replies and state marked `outcome`), a header
 * saying what was observed where (target_label) and a slot for the citation (rfc_note pre-fills it).
 * It passes on the target it was observed on. Malloc'd; NULL when out of memory. */
char *explore_emit_text(const struct explore_row *row, const struct explore_event *event,
			const struct explore_observation *o, const char *target_label, const char *rfc_note);

#endif
