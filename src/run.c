/* run.c - see run.h. */
#include "run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_text.h"

#include "agent.h"
#include "capability.h"
#include "capture_story.h"
#include "clock_watch.h"
#include "cpu_wait.h"
#include "judge.h"
#include "output_file.h"
#include "peer.h"
#include "pkt_code.h"
#include "segment_format.h"
#include "storm.h"
#include "symbols.h"
#include "target.h"
#include "wire.h"

volatile int run_interrupted;

#define MAX_PENDING 256
#define POLL_INTERVAL_NS 200000LL

/* A segment the stack sent that no step has consumed yet. */
struct pending_segment {
	int64_t at_ns;
	int peer; /* -1: addressed to no declared peer */
	int frame; /* in the wire's recording; -1: none */
	struct segment segment;
};

/* A segment the harness sent whose frame the capture has not shown yet: frames come back in the order
 * they were sent, so the first that matches is the one. */
struct injection_awaiting_frame {
	uint16_t src_port, dst_port;
	uint32_t seq;
	uint8_t flags;
	int event;
};

#define CASE_MAX_COUNTERS 32

/* A counter some line checks, as it stood when the case started. */
struct counter_baseline {
	const char *name;
	bool exists;
	int64_t value;
};

/* Everything one case run holds; torn down in reverse order by teardown(). */
struct run_state {
	const struct case_file *c;
	struct case_file retargeted; /* c with the target's own address, when the target has one */
	int variant;
	enum address_family family;
	struct ip_address target_address; /* the stack's address on the wire in this family */
	const struct run_options *options;
	struct target_case target;
	bool target_begun;
	struct agent *agent;
	/* A call that blocks while later lines run (app_call.span_ns): its step, when it went to the
	 * agent, and the reply to collect before the agent is asked anything else. */
	const struct step *blocking_step;
	int64_t blocking_requested_ns;
	struct cpu_wait_snapshot blocking_called; /* the CPU waits when it was made, for its excuse */
	int64_t blocking_injected_late_ns;        /* how late the latest injection while it blocked left */
	/* The latest call that placed its line at the moment it was made (when.clock_at_call), and when the
	 * agent said it returned: a segment the call itself sent left somewhere in between. */
	int64_t call_requested_ns, call_returned_ns;
	struct agent_pending blocking;
	struct wire *wire;
	struct wire *own_wire;                /* the wire the case opened itself (not the worker link's), closed at its end */
	struct counter_baseline baselines[CASE_MAX_COUNTERS];
	int baseline_count;
	struct peer_state peers[CASE_MAX_PEERS];
	int64_t kernel_tsval_at_ns[CASE_MAX_PEERS]; /* when the stack's last TSval to each peer was sent */
	/* The last segment a line took from the stack for each peer, and when our last one to it left:
	 * what tells a retransmission provoked by our late-processed answer. */
	struct segment last_taken[CASE_MAX_PEERS];
	int64_t last_taken_ns[CASE_MAX_PEERS]; /* 0: none taken yet */
	int64_t last_injected_ns[CASE_MAX_PEERS];
	struct cpu_wait_snapshot last_injected_wait[CASE_MAX_PEERS];
	struct pending_segment pending[MAX_PENDING];
	int pending_count;
	struct injection_awaiting_frame awaiting[MAX_PENDING];
	int awaiting_count;
	FILE *capture;     /* the case's capture file, written once the case is over; NULL: none */
	int *first_frame;  /* per step: the recording's length when it began; -1: it never ran */
	int64_t start_ns;
	int64_t previous_ns; /* when the previous line happened on the timeline: the base of relative times */
	/* How far before previous_ns the stack may have seen the previous line: an application call happens
	 * somewhere between its due time and the agent's stamp of its return, and over lines not placed by
	 * the wire (calls, reads, waits) the harness's lateness adds up until a segment resets it. */
	int64_t previous_uncertainty_ns;
	int line_first_event;          /* the first event of the line running now */
	int previous_line_first_event; /* the previous line's: what the wire showed since it begins there */
	/* What had waited for a CPU, and what the capture had lost, when they began. */
	struct cpu_wait_snapshot line_wait, previous_line_wait;
	int64_t line_dropped, previous_line_dropped;
	bool previous_captured;  /* previous_ns is a captured segment's time, not one the harness took */
	/* When it is: how long deferred work may have held that segment back (cpu_wait.h), -1 unknown. */
	int64_t previous_capture_deferred_ns;
	int64_t own_captured_ns; /* when the capture last saw a frame of ours */
	/* A frame of ours the capture saw before its injection's event existed (the injection drains the
	 * capture to learn when it left): its identity, and its recording index in .event. */
	struct injection_awaiting_frame own_unclaimed;
	bool own_unclaimed_valid;
	char *failure;       /* first failure's diagnostic */
	bool harness_fault;  /* the failure is the harness's or its environment's (ERROR), not the stack's */
	int failed_step;
	int unchecked;           /* lines the stack could not show evidence for */
	char *unchecked_reason;  /* their reasons, each once, joined by "; " */
	struct run_event *events;
	int event_count, event_capacity;
};

static char *format_message(const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		return NULL;
	return text;
}

static char *message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = format_message(fmt, ap);
	va_end(ap);
	return text;
}

/* Records a step's failure as `file:line:col: message`, the source line, and optional detail lines.
 * harness: the harness or its environment could not perform the step (an ERROR), so it proves nothing
 * about the stack. */
static int record_failure(struct run_state *rs, const struct step *step, bool harness, const char *detail,
			  const char *fmt, va_list ap)
{
	char *what = format_message(fmt, ap);
	rs->failure = message("%s:%d:%d: %s%s\n  %5d | %s\n%s", rs->c->path, step->where.line, step->where.col,
			      harness ? "harness error: " : "", what ? what : "out of memory", step->where.line,
			      rs->c->lines[step->line_index], detail ? detail : "");
	free(what);
	rs->harness_fault = harness;
	rs->failed_step = (int)(step - rs->c->steps);
	return -1;
}

/* The stack did something other than the line says: a FAIL. */
static int step_failed(struct run_state *rs, const struct step *step, const char *detail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_failure(rs, step, false, detail, fmt, ap);
	va_end(ap);
	return -1;
}

/* The harness could not perform the line (late, its agent or capture broke): an ERROR. */
static int harness_error(struct run_state *rs, const struct step *step, const char *detail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record_failure(rs, step, true, detail, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends an event for reports; its texts start empty. Out of memory, the report just misses it. */
static struct run_event *add_event(struct run_state *rs, enum run_event_kind kind, const struct step *step,
				   int peer, int64_t at_ns)
{
	static struct run_event discarded;
	if (rs->event_count == rs->event_capacity) {
		int capacity = rs->event_capacity ? 2 * rs->event_capacity : 32;
		struct run_event *events = realloc(rs->events, (size_t)capacity * sizeof *events);
		if (!events)
			return memset(&discarded, 0, sizeof discarded);
		rs->events = events;
		rs->event_capacity = capacity;
	}
	struct run_event *e = &rs->events[rs->event_count++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->at_ns = at_ns - rs->start_ns;
	e->step = step ? (int)(step - rs->c->steps) : -1;
	e->peer = peer;
	e->frame = -1;
	return e;
}

/* Whether reason is one of list's "; "-joined reasons. */
static bool listed(const char *list, const char *reason)
{
	size_t len = strlen(reason);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ";");
		if (n == len && memcmp(p, reason, n) == 0)
			return true;
		p += n;
		p += strspn(p, "; ");
	}
	return false;
}

/* A line whose evidence this stack cannot show: recorded as unobservable and counted with its reason,
 * never judged, so that the run goes on and its reports say what it did not check. */
static void step_unchecked(struct run_state *rs, const struct step *step, enum run_event_kind kind,
			   const char *expected, const char *reason)
{
	rs->previous_ns = wire_now_ns();
	struct run_event *e = add_event(rs, kind, step, step->peer, rs->previous_ns);
	e->unchecked = true;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "unobservable");
	snprintf(e->outcome, sizeof e->outcome, OUTCOME_UNSEEN);
	rs->unchecked++;
	if (rs->unchecked_reason && listed(rs->unchecked_reason, reason))
		return;
	char *joined = rs->unchecked_reason ? message("%s; %s", rs->unchecked_reason, reason) : strdup(reason);
	if (joined) {
		free(rs->unchecked_reason);
		rs->unchecked_reason = joined;
	}
}

static void sleep_until(int64_t at_ns)
{
	struct timespec ts = { at_ns / 1000000000, at_ns % 1000000000 };
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR && !run_interrupted)
		;
}

static const char *peer_label(const struct run_state *rs, int peer)
{
	return peer >= 0 ? rs->c->peers[peer].name : "(no declared peer)";
}

static int owning_peer(const struct run_state *rs, const struct segment *s)
{
	for (int i = 0; i < rs->c->peer_count; i++)
		if (peer_owns(&rs->peers[i], s))
			return i;
	return -1;
}

static bool frame_is(const struct injection_awaiting_frame *a, const struct segment *s)
{
	return a->src_port == s->src_port && a->dst_port == s->dst_port && a->seq == s->seq && a->flags == s->flags;
}

/* Gives the injection event waiting for this frame (the first whose segment it is) its frame; one no
 * event waits for yet is kept for the injection being made. */
static void match_injected_frame(struct run_state *rs, const struct wire_frame *frame)
{
	const struct segment *s = &frame->segment;
	for (int i = 0; i < rs->awaiting_count; i++) {
		if (!frame_is(&rs->awaiting[i], s))
			continue;
		rs->events[rs->awaiting[i].event].frame = frame->recorded;
		rs->awaiting_count--;
		memmove(&rs->awaiting[i], &rs->awaiting[i + 1], (size_t)(rs->awaiting_count - i) * sizeof rs->awaiting[0]);
		return;
	}
	rs->own_unclaimed = (struct injection_awaiting_frame){ s->src_port, s->dst_port, s->seq, s->flags,
								frame->recorded };
	rs->own_unclaimed_valid = true;
}

/* Reads captured frames until deadline_ns; the stack's segments join the pending queue, our own
 * injected ones are matched to their lines' events. Returns after the first new pending segment, or at the
 * deadline. -1 on a capture error. */
static int pump(struct run_state *rs, int64_t deadline_ns, bool *got_one)
{
	*got_one = false;
	for (;;) {
		struct wire_frame frame;
		char *error = NULL;
		int rc = wire_next(rs->wire, deadline_ns, &frame, &error);
		if (rc < 0) {
			rs->failure = message("harness error: capture failed: %s", error ? error : "?");
			rs->harness_fault = true;
			free(error);
			return -1;
		}
		if (rc == 0)
			return 0;
		/* Only the stack sends ICMPv6 here (the harness end has no IPv6): recorded, never read as TCP. */
		if (frame.icmpv6) {
			struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, NULL, -1, frame.at_ns);
			snprintf(e->observed, sizeof e->observed, "ICMPv6 type %u code %u", frame.icmpv6_type,
				 frame.icmpv6_code);
			e->frame = frame.recorded;
			continue;
		}
		if (!frame.decoded)
			continue;
		if (!ip_address_equal(&frame.segment.src_ip, &rs->target_address)) {
			rs->own_captured_ns = frame.at_ns;
			match_injected_frame(rs, &frame);
			continue;
		}
		if (rs->pending_count == MAX_PENDING) {
			rs->failure = message("more than %d segments from the stack left unexpected", MAX_PENDING);
			return -1;
		}
		struct pending_segment *p = &rs->pending[rs->pending_count++];
		p->at_ns = frame.at_ns;
		p->segment = frame.segment;
		p->peer = owning_peer(rs, &frame.segment);
		p->frame = frame.recorded;
		*got_one = true;
		return 0;
	}
}

/* Drains everything captured so far without waiting. */
static int drain(struct run_state *rs)
{
	bool got;
	do {
		if (pump(rs, 0, &got) < 0)
			return -1;
	} while (got);
	return 0;
}

/* Peers may share a 4-tuple (an old connection and the new one on it): a segment is for every peer
 * that owns it, and the line that expects it decides which one reads it. */
static bool pending_is_for(const struct run_state *rs, int i, int peer)
{
	return rs->pending[i].peer >= 0 && peer_owns(&rs->peers[peer], &rs->pending[i].segment);
}

static int take_pending(struct run_state *rs, int peer, struct pending_segment *out)
{
	for (int i = 0; i < rs->pending_count; i++) {
		if (!pending_is_for(rs, i, peer))
			continue;
		*out = rs->pending[i];
		memmove(&rs->pending[i], &rs->pending[i + 1], (size_t)(rs->pending_count - i - 1) * sizeof rs->pending[0]);
		rs->pending_count--;
		return 1;
	}
	return 0;
}

/* A segment the stack sent that no line expected, in the case's relative terms; recorded as an event
 * that broke `step` (NULL: no line's). */
/* A segment from the stack in its peer's relative numbers (absolute ones for no declared peer). */
static void stack_segment_text(struct run_state *rs, const struct segment *segment, int peer, char *text, size_t size)
{
	if (peer >= 0) {
		struct segment_spec view;
		peer_learn(&rs->peers[peer], segment);
		peer_relative_view(&rs->peers[peer], segment, &view);
		segment_format_spec(&view, text, size, NULL);
	} else {
		segment_format_absolute(segment, text, size);
	}
}

static char *describe_unexpected(struct run_state *rs, const struct step *step, const struct pending_segment *p)
{
	char text[RUN_EVENT_TEXT];
	stack_segment_text(rs, &p->segment, p->peer, text, sizeof text);
	struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, step, p->peer, p->at_ns);
	e->broke = true;
	e->frame = p->frame;
	snprintf(e->observed, sizeof e->observed, "%s", text);
	snprintf(e->outcome, sizeof e->outcome, "%s", outcome_of_segment(p->segment.flags));
	if (step && step->kind == STEP_EXPECT_NONE)
		snprintf(e->expected, sizeof e->expected, "none");
	return message("    unexpected: %s > %s at +%.3f s\n", peer_label(rs, p->peer), text,
		       (double)(p->at_ns - rs->start_ns) / 1e9);
}

/* What waited for a CPU from since on, and the sentence that says so. */
static struct cpu_wait waited_since(const struct cpu_wait_snapshot *since, char *text, size_t size)
{
	struct cpu_wait_snapshot now;
	cpu_wait_snapshot(&now);
	struct cpu_wait w = cpu_wait_between(since, &now);
	cpu_wait_format(&w, text, size);
	return w;
}

/* The same since the previous line began: what a harness that came late to this line waited through. */
static struct cpu_wait waited_since_previous_line(const struct run_state *rs, char *text, size_t size)
{
	return waited_since(&rs->previous_line_wait, text, size);
}

/* Adds to w how long the target's own machine ran nothing within [from_ns, to_ns]: a VM guest whose
 * vCPU the host did not run, by its agent's clock watch (clock_watch.h); then says it all in text.
 * Asks the agent, so never while a call of the case is outstanding; an agent that watches no clock
 * (every target but a VM) leaves w and text as they were. */
static void add_guest_stalls(struct run_state *rs, int64_t from_ns, int64_t to_ns, struct cpu_wait *w, char *text,
			     size_t size)
{
	char stalls[AGENT_LINE_MAX];
	char *error = NULL;
	if (!rs->agent || rs->blocking_step || agent_stalls(rs->agent, stalls, sizeof stalls, &error) != 1) {
		free(error);
		return;
	}
	w->guest_stall_ns = clock_watch_stalled_between(stalls, wire_now_ns(), from_ns, to_ns, &w->guest_longest_ns);
	if (w->guest_stall_ns < 0)
		return;
	w->guest_span_ns = to_ns - from_ns;
	cpu_wait_format(w, text, size);
}

/* Frames the capture lost since the previous line began: what the stack sent then may be among them. */
static int64_t dropped_since_previous_line(const struct run_state *rs)
{
	int64_t now = wire_capture_dropped(rs->wire);
	return now < 0 || rs->previous_line_dropped < 0 ? 0 : now - rs->previous_line_dropped;
}

/* An unexpected segment that repeats the last one a line took from the stack for its peer, sent after
 * our answer to it left, is the stack resending as if that answer never came. When the stack's deferred
 * work (which delivers our answer) waited at least as long as the answer had been on its way, the
 * answer may just not have been processed yet: the retransmission proves nothing. Fills text with the
 * evidence when so. */
static bool resent_while_starved(struct run_state *rs, const struct pending_segment *p, char *text,
				 size_t size)
{
	/* Our answer is an injection after the segment it answers. */
	if (p->peer < 0 || !rs->last_taken_ns[p->peer] || rs->last_injected_ns[p->peer] <= rs->last_taken_ns[p->peer])
		return false;
	const struct segment *last = &rs->last_taken[p->peer];
	int64_t answer_ns = p->at_ns - rs->last_injected_ns[p->peer];
	if (p->segment.seq != last->seq || p->segment.flags != last->flags ||
	    p->segment.payload_len != last->payload_len || answer_ns <= 0)
		return false;
	char waited_text[512];
	struct cpu_wait waited = waited_since(&rs->last_injected_wait[p->peer], waited_text, sizeof waited_text);
	add_guest_stalls(rs, rs->last_injected_ns[p->peer], p->at_ns, &waited, waited_text, sizeof waited_text);
	snprintf(text, size, "the stack resent its segment %.1f ms after our answer left, but %s: our answer may "
		 "not have been processed yet, it cannot tell", (double)answer_ns / 1e6, waited_text);
	return cpu_wait_explains(&waited, answer_ns);
}

/* Strictness, as in packetdrill: a segment from the stack that no line consumed fails the case. */
static int check_nothing_unexpected(struct run_state *rs, const struct step *step, const char *when)
{
	if (drain(rs) < 0)
		return -1;
	if (rs->pending_count == 0 || rs->c->expected_segments_only)
		return 0;
	char *detail = describe_unexpected(rs, NULL, &rs->pending[0]);
	char starved[768];
	/* After a last line that took a segment, an on-time harness looks for more at once, the moment
	 * that segment was captured; one that came to it late also sees what the stack sent since. */
	bool after_segment = rs->event_count > 0 && rs->events[rs->event_count - 1].kind == RUN_EVENT_SEGMENT;
	int64_t looked_late_ns = after_segment ? wire_now_ns() - rs->previous_ns : 0;
	if (!step && looked_late_ns > rs->options->tolerance_ns &&
	    rs->pending[0].at_ns > rs->previous_ns + rs->options->tolerance_ns) {
		rs->failure = message("%s: harness error: the stack sent a segment no line expected %.1f ms after the "
				      "last line's segment, but the harness came to the end of the case %.1f ms after that "
				      "segment (descheduled or stopped): an on-time harness would have ended the case "
				      "before it\n%s", rs->c->path, (double)(rs->pending[0].at_ns - rs->previous_ns) / 1e6,
				      (double)looked_late_ns / 1e6, detail ? detail : "");
		rs->harness_fault = true;
		free(detail);
		return -1;
	}
	if (step && resent_while_starved(rs, &rs->pending[0], starved, sizeof starved))
		harness_error(rs, step, detail, "the stack sent a segment no line expected (%s); %s", when, starved);
	else if (step)
		step_failed(rs, step, detail, "the stack sent a segment no line expected (%s)", when);
	else
		rs->failure = message("%s: the stack sent a segment no line expected (%s)\n%s", rs->c->path, when,
				      detail ? detail : "");
	free(detail);
	return -1;
}

/* What the wire showed from the previous line on, in the case's notation, for a diagnostic: the segments
 * injected and received (the previous line's own included), then those captured but not yet read by
 * any line. Malloc'd; NULL out of memory. */
static char *describe_wire_since_previous_line(struct run_state *rs)
{
	char *text = strdup("    wire since the previous line:\n");
	int shown = 0;
	for (int i = rs->previous_line_first_event; text && i < rs->event_count; i++) {
		const struct run_event *e = &rs->events[i];
		if (e->kind != RUN_EVENT_INJECTED && (e->kind != RUN_EVENT_SEGMENT || !e->observed[0]))
			continue;
		char *longer = message("%s      +%.3f s  %s %s %s\n", text, (double)e->at_ns / 1e9, peer_label(rs, e->peer),
				       e->kind == RUN_EVENT_INJECTED ? "<" : ">", e->observed);
		free(text);
		text = longer;
		shown++;
	}
	for (int i = 0; text && i < rs->pending_count; i++) {
		const struct pending_segment *p = &rs->pending[i];
		char segment[RUN_EVENT_TEXT];
		if (p->peer >= 0) {
			struct segment_spec view;
			peer_relative_view(&rs->peers[p->peer], &p->segment, &view);
			segment_format_spec(&view, segment, sizeof segment, NULL);
		} else {
			segment_format_absolute(&p->segment, segment, sizeof segment);
		}
		char *longer = message("%s      +%.3f s  %s > %s   (read by no line yet)\n", text,
				       (double)(p->at_ns - rs->start_ns) / 1e9, peer_label(rs, p->peer), segment);
		free(text);
		text = longer;
		shown++;
	}
	if (text && shown == 0) {
		char *longer = message("%s      nothing\n", text);
		free(text);
		text = longer;
	}
	return text;
}

struct step_window {
	int64_t earliest_ns, latest_ns; /* when the step is due */
	int64_t open_ns, close_ns;      /* when an expectation may be met: the window plus tolerance */
};

static struct step_window window_of(const struct run_state *rs, const struct step *step)
{
	int64_t base = step->when.relative ? rs->previous_ns : rs->start_ns;
	struct step_window w = { base + step->when.earliest_ns, base + step->when.latest_ns, 0, 0 };
	int64_t slack = step->when.tolerance_ns > 0 ? step->when.tolerance_ns
			: step->when.has_window	      ? 0
						      : rs->options->tolerance_ns;
	w.open_ns = w.earliest_ns - slack;
	w.close_ns = w.latest_ns + slack;
	return w;
}

static int do_inject(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	if (drain(rs) < 0)
		return -1;
	/* Come after the window closed, the harness finds a segment the stack sent after it closed too: that
	 * may answer the harness's lateness (a SYN resent because our SYN-ACK was due long ago), not break
	 * the case. What the stack sent in time is still its own doing. */
	int64_t came_ns = wire_now_ns();
	if (came_ns > w->close_ns && rs->pending_count > 0 && rs->pending[0].at_ns > w->close_ns &&
	    !rs->c->expected_segments_only) {
		char waited[256];
		waited_since_previous_line(rs, waited, sizeof waited);
		char *detail = describe_unexpected(rs, NULL, &rs->pending[0]);
		harness_error(rs, step, detail, "the injection was due by +%.3f s, but the harness came to it %.1f ms late "
			      "(descheduled or stopped: %s), and the stack sent a segment after that: it may answer the "
			      "lateness", (double)(w->close_ns - rs->start_ns) / 1e9, (double)(came_ns - w->earliest_ns) / 1e6,
			      waited);
		free(detail);
		return -1;
	}
	if (check_nothing_unexpected(rs, step, "before this injection") < 0)
		return -1;
	struct peer_state *peer = &rs->peers[step->peer];
	if (step->new_passive_open)
		peer_new_passive_open(peer);
	struct segment segment;
	const char *build_error = NULL;
	if (peer_build_segment(peer, &step->u.segment, &rs->target_address, wire_now_ns() - rs->start_ns, &segment,
			       &build_error) < 0)
		return step_failed(rs, step, NULL, "cannot build the segment: %s", build_error);
	char *error = NULL;
	int64_t sent_ns;
	rs->own_captured_ns = 0;
	rs->own_unclaimed_valid = false;
	if (wire_inject(rs->wire, &segment, &sent_ns, &error) < 0) {
		harness_error(rs, step, NULL, "injection failed: %s", error ? error : "?");
		free(error);
		return -1;
	}
	/* The stamp is taken just before the write; a harness descheduled in between sends later. The
	 * capture sees our frame as it leaves, so its time is when the segment really went. */
	if (drain(rs) < 0)
		return -1;
	if (rs->own_captured_ns > sent_ns)
		sent_ns = rs->own_captured_ns;
	rs->previous_ns = sent_ns;
	rs->previous_uncertainty_ns = 0;
	if (rs->blocking_step)
		rs->blocking_injected_late_ns = sent_ns > w->earliest_ns ? sent_ns - w->earliest_ns : 0;
	rs->last_injected_ns[step->peer] = sent_ns;
	cpu_wait_snapshot(&rs->last_injected_wait[step->peer]);
	struct segment_spec view;
	peer_injected_view(peer, &segment, &view);
	struct run_event *e = add_event(rs, RUN_EVENT_INJECTED, step, step->peer, sent_ns);
	segment_format_spec(&view, e->observed, sizeof e->observed, NULL);
	if (rs->capture && rs->own_unclaimed_valid && frame_is(&rs->own_unclaimed, &segment))
		e->frame = rs->own_unclaimed.event;
	else if (rs->capture && rs->awaiting_count < MAX_PENDING && rs->event_count > 0 &&
		 e == &rs->events[rs->event_count - 1])
		rs->awaiting[rs->awaiting_count++] = (struct injection_awaiting_frame){
			segment.src_port, segment.dst_port, segment.seq, segment.flags, rs->event_count - 1 };
	/* Sent outside its window, the segment tests another moment than the line's: whatever the stack
	 * answers proves nothing about the case. */
	if (sent_ns > w->close_ns) {
		char waited[256];
		waited_since_previous_line(rs, waited, sizeof waited);
		return harness_error(rs, step, NULL,
				     "the injection left %.1f ms late, after its window closed at +%.3f s (the harness "
				     "was descheduled or stopped: %s)", (double)(sent_ns - w->earliest_ns) / 1e6,
				     (double)(w->close_ns - rs->start_ns) / 1e9, waited);
	}
	return 0;
}

/* "+0.100 s" or "+0.100~0.200 s": when a line's window is open, since the case started. */
static void format_window(const struct run_state *rs, const struct step_window *w, char *buf, size_t size)
{
	double open = (double)(w->open_ns - rs->start_ns) / 1e9, close = (double)(w->close_ns - rs->start_ns) / 1e9;
	snprintf(buf, size, "+%.3f~%.3f s", open, close);
}

/* How long after a window's end the harness still listens for a segment it expects, and reads what the
 * capture holds, before it calls the segment missing: under load the stack's deferred work (ksoftirqd)
 * may deliver a segment sent in time hundreds of ms late, and the harness itself may look late. A
 * segment that comes meanwhile is judged as late; one that never comes is missing. */
#define DELIVERY_GRACE_NS 500000000LL

/* A segment to the peer never came: nothing by the window's end, nor in the grace after it. The
 * capture records what the stack sends whether or not the harness is running, so the harness's own
 * lateness excuses nothing; the stack's deferred work waiting as long as the segment is overdue, or
 * the capture losing frames, does. */
static int segment_missing(struct run_state *rs, const struct step *step, const struct step_window *w,
			   int64_t looked_ns, const struct cpu_wait_snapshot *at_close)
{
	struct run_event *e = add_event(rs, RUN_EVENT_SILENCE, step, step->peer, looked_ns);
	e->broke = true;
	segment_format_spec(&step->u.segment, e->expected, sizeof e->expected, NULL);
	snprintf(e->observed, sizeof e->observed, "nothing");
	snprintf(e->outcome, sizeof e->outcome, OUTCOME_DROP);
	char window[64];
	format_window(rs, w, window, sizeof window);
	char *wire = describe_wire_since_previous_line(rs);
	char *detail = message("    expected: %s at %s\n    observed: nothing\n%s", e->expected, window,
			       wire ? wire : "");
	free(wire);
	int64_t overdue_ns = looked_ns - w->close_ns;
	int64_t dropped = dropped_since_previous_line(rs);
	char waited_text[512];
	struct cpu_wait waited = cpu_wait_unknown();
	if (at_close)
		waited = waited_since(at_close, waited_text, sizeof waited_text);
	else
		snprintf(waited_text, sizeof waited_text, "the harness saw the window's end late: nothing measured");
	if (!run_interrupted && dropped <= 0)
		add_guest_stalls(rs, w->close_ns, looked_ns, &waited, waited_text, sizeof waited_text);
	if (run_interrupted)
		harness_error(rs, step, detail, "interrupted while waiting for a segment to %s", peer_label(rs, step->peer));
	else if (dropped > 0)
		harness_error(rs, step, detail, "no segment from the stack to %s, but the capture lost %lld frames meanwhile "
			      "(its ring was full): it cannot tell", peer_label(rs, step->peer), (long long)dropped);
	else if (cpu_wait_explains(&waited, overdue_ns))
		harness_error(rs, step, detail, "no segment from the stack to %s by %.1f ms after its window, but %s: "
			      "the stack's deferred work (or a guest's timers) may not have run yet, it cannot tell",
			      peer_label(rs, step->peer),
			      (double)overdue_ns / 1e6, waited_text);
	else
		step_failed(rs, step, detail, "no segment from the stack to %s within %.0f ms (nor in the %.0f ms after "
			    "its window; %s)", peer_label(rs, step->peer), (double)(w->close_ns - rs->previous_ns) / 1e6,
			    (double)overdue_ns / 1e6, waited_text);
	free(detail);
	return -1;
}

/* The bytes of a segment's options on the wire (what its data offset counts, less the padding). */
static size_t options_length(const struct segment *s)
{
	size_t length = 0;
	for (size_t i = 0; i < s->option_count && i < SEGMENT_MAX_OPTIONS; i++)
		length += s->options[i].length;
	return length;
}

/* Why fragment next cannot continue whole (its first's seq, the payload so far), or NULL: it must
 * follow on in sequence with the same ack, window, flags but FIN, PSH and CWR, and options' length
 * (run_packet.c, verify_packet_fragments and verify_tcp, not strict), and a fragment that leaves
 * bytes to come must be as long as the one before it. */
static const char *fragment_mismatch(const struct segment *whole, const struct segment *last,
				     const struct segment *next, uint32_t expected_len)
{
	const uint8_t loose = TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_CWR;
	if (next->seq != whole->seq + whole->payload_len)
		return "its seq does not follow on";
	if (next->ack != last->ack || next->window != last->window || (next->flags & ~loose) != (last->flags & ~loose) ||
	    options_length(next) != options_length(last))
		return "its header differs from the one before it";
	if (whole->payload_len + next->payload_len < expected_len && next->payload_len != last->payload_len)
		return "its length differs from the one before it, with bytes still to come";
	return NULL;
}

/* packetdrill without --strict_segments reads the stack's segments until their payloads reach the
 * length its line expects (run_packet.c, do_outbound_script_packet): the stack's TSO skbs, or a
 * link's MSS-sized segments, stand for the one the script writes. The whole has the last one's
 * headers and time, the first one's seq and CWR (packet.c, aggregate_packets); its length is then
 * judged as any segment's. */
static int coalesce_fragments(struct run_state *rs, const struct step *step, int64_t deadline_ns,
			      struct pending_segment *got)
{
	uint32_t expected_len = step->u.segment.payload_len;
	struct segment last = got->segment;
	int fragments = 1;
	/* A segment without data is judged as it is: no run of them makes up data. */
	while (got->segment.payload_len > 0 && got->segment.payload_len < expected_len) {
		struct pending_segment next;
		while (!take_pending(rs, step->peer, &next)) {
			bool new_one;
			if (wire_now_ns() >= deadline_ns) {
				if (drain(rs) < 0)
					return -1;
				if (take_pending(rs, step->peer, &next))
					break;
				return step_failed(rs, step, NULL, "the stack sent %s %u of the %u bytes expected, in %d "
						   "segment(s), by the window's end", peer_label(rs, step->peer),
						   got->segment.payload_len, expected_len, fragments);
			}
			if (pump(rs, deadline_ns, &new_one) < 0)
				return -1;
		}
		const char *why = fragment_mismatch(&got->segment, &last, &next.segment, expected_len);
		if (why)
			return step_failed(rs, step, NULL, "the stack's segment %d towards the %u bytes expected (%u:%u "
					   "after %u bytes) cannot be one of them: %s", fragments + 1, expected_len,
					   next.segment.seq, next.segment.seq + next.segment.payload_len,
					   got->segment.payload_len, why);
		uint32_t seq = got->segment.seq, payload_len = got->segment.payload_len + next.segment.payload_len;
		uint8_t cwr = got->segment.flags & TCP_FLAG_CWR;
		last = next.segment;
		got->segment = next.segment;
		got->segment.seq = seq;
		got->segment.payload_len = payload_len;
		got->segment.flags = (uint8_t)((last.flags & ~TCP_FLAG_CWR) | cwr);
		got->at_ns = next.at_ns;
		got->frame = next.frame;
		fragments++;
	}
	return 0;
}

static int do_expect_segment(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	int64_t deadline_ns = w->close_ns + DELIVERY_GRACE_NS;
	/* What waited from the window's opening, and from its end, on: what may have held back a segment
	 * sent in time. Taken when the harness sees those moments; one it saw late (NULL here) excuses
	 * nothing: over a wider span a ksoftirqd busy with other traffic would excuse a wrong line. */
	struct cpu_wait_snapshot at_open, at_close;
	int64_t opened_ns = 0, closed_ns = 0;
	const struct cpu_wait_snapshot *since_open = NULL, *since_close = NULL;
	struct pending_segment got;
	while (!take_pending(rs, step->peer, &got)) {
		bool new_one;
		int64_t now = wire_now_ns();
		if (!opened_ns && now >= w->open_ns) {
			cpu_wait_snapshot(&at_open);
			opened_ns = now;
			if (now <= w->open_ns + rs->options->tolerance_ns)
				since_open = &at_open;
		}
		if (!closed_ns && now >= w->close_ns) {
			cpu_wait_snapshot(&at_close);
			closed_ns = now;
			if (now <= w->close_ns + rs->options->tolerance_ns)
				since_close = &at_close;
		}
		if (run_interrupted)
			return segment_missing(rs, step, w, now, since_close);
		/* A harness that comes late still reads what the capture holds before it gives up. */
		if (now >= deadline_ns) {
			if (drain(rs) < 0)
				return -1;
			if (take_pending(rs, step->peer, &got))
				break;
			return segment_missing(rs, step, w, now, since_close);
		}
		if (pump(rs, !opened_ns ? w->open_ns : !closed_ns ? w->close_ns : deadline_ns, &new_one) < 0)
			return -1;
	}
	if (rs->c->coalesce_segments && coalesce_fragments(rs, step, deadline_ns, &got) < 0)
		return -1;
	struct cpu_wait_snapshot taken;
	cpu_wait_snapshot(&taken);
	struct peer_state *peer = &rs->peers[step->peer];
	struct segment_spec observed, expected;
	/* `old`: the SYN read in the numbers of the ISN in force before it, the previous incarnation's. */
	bool old_numbers = step->u.segment.seq_in_old_numbers;
	if (old_numbers && !peer->kernel_isn_known)
		return step_failed(rs, step, NULL, "'old' numbers: the stack sent %s no SYN before this one, so there "
				   "is no previous ISN to count from", peer_label(rs, step->peer));
	if (old_numbers)
		peer_relative_view(peer, &got.segment, &observed);
	peer_learn(peer, &got.segment);
	if (!old_numbers)
		peer_relative_view(peer, &got.segment, &observed);
	observed.seq_in_old_numbers = old_numbers;
	observed.has_ip_ecn = step->u.segment.has_ip_ecn;
	rs->kernel_tsval_at_ns[step->peer] = got.at_ns;
	rs->last_taken[step->peer] = got.segment;
	rs->last_taken_ns[step->peer] = got.at_ns;
	peer_resolve_expected(peer, &step->u.segment, &expected);
	peer_map_ts_ticks(peer, &expected, &observed);
	struct segment_verdict verdict = judge_segment(&expected, &observed);
	struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, step, step->peer, got.at_ns);
	e->frame = got.frame;
	segment_format_spec(&expected, e->expected, sizeof e->expected, NULL);
	segment_format_spec(&observed, e->observed, sizeof e->observed, NULL);
	snprintf(e->outcome, sizeof e->outcome, "%s", outcome_of_segment(got.segment.flags));
	int64_t early_ns = w->open_ns - got.at_ns, late_ns = got.at_ns - w->close_ns;
	e->broke = !verdict.matches || early_ns > 0 || late_ns > 0;
	if (!verdict.matches) {
		char detail[2048];
		judge_format_diff(&expected, &observed, &verdict, "    ", detail, sizeof detail);
		return step_failed(rs, step, detail, "the stack's segment to %s differs from the expected one",
				   peer_label(rs, step->peer));
	}
	if (early_ns > 0 || late_ns > 0) {
		char window[64], detail[2 * RUN_EVENT_TEXT + 128];
		format_window(rs, w, window, sizeof window);
		const char *how = early_ns > 0 ? "early" : "late";
		double by_ms = (double)(early_ns > 0 ? early_ns : late_ns) / 1e6;
		snprintf(detail, sizeof detail, "    expected: %s at %s\n    observed: %s at +%.3f s (%.1f ms %s)\n",
			 e->expected, window, e->observed, (double)(got.at_ns - rs->start_ns) / 1e9, by_ms, how);
		/* The lines since the last segment were placed late by the harness (a call due earlier, or slow
		 * to answer): an early segment within that lateness may well be in time. */
		if (early_ns > 0 && early_ns <= rs->previous_uncertainty_ns)
			return harness_error(rs, step, detail, "segment arrived %.1f ms early, but the lines since the "
					     "last segment ran up to %.1f ms behind their times (calls made late or slow to "
					     "answer): the harness cannot place it", by_ms,
					     (double)rs->previous_uncertainty_ns / 1e6);
		/* The stack's deferred work (ksoftirqd) held back by load delays a segment: this one since its
		 * window closed, or the previous one whose capture time the window is measured from. */
		/* A harness that looked at the window's end late has no snapshot of it: it measures from the
		 * line's start, a wider span, but one it took in time. Over that span ksoftirqd may have been
		 * busy with other traffic, so it excuses only a harness that was late for the same reason,
		 * waiting for a CPU itself; one that was stopped excuses nothing. */
		const char *span = since_close ? "from the window's end on"
					       : "from the line's start on, the harness having looked at the window's end late";
		struct cpu_wait waited = cpu_wait_between(since_close ? since_close : &rs->line_wait, &taken);
		char waited_text[512];
		cpu_wait_format(&waited, waited_text, sizeof waited_text);
		bool starved_alike = since_close || waited.thread_wait_ns > rs->options->tolerance_ns;
		if (late_ns > 0)
			add_guest_stalls(rs, w->close_ns, got.at_ns, &waited, waited_text, sizeof waited_text);
		/* The same holds for the guest's vCPU wait; a guest's stalls are stamped, so they are counted
		 * from the window's end whenever the harness looked. */
		struct cpu_wait excuse = waited;
		if (!starved_alike)
			excuse.deferred_ns = excuse.vcpu_wait_ns = -1;
		if (late_ns > 0 && cpu_wait_explains(&excuse, late_ns))
			return harness_error(rs, step, detail, "segment arrived %.1f ms too late, but %s, %s: the stack's "
					     "deferred work (or a guest's timers) was starved, its timing proves nothing", by_ms,
					     span, waited_text);
		/* Measured from a call that took longer to return than the segment is late, and sent before
		 * it returned: the call sent it, whenever the agent got to run it. */
		int64_t call_ns = rs->call_returned_ns - rs->call_requested_ns;
		if (late_ns > 0 && rs->previous_ns == rs->call_requested_ns && got.at_ns <= rs->call_returned_ns &&
		    call_ns >= late_ns)
			return harness_error(rs, step, detail, "segment arrived %.1f ms too late, but the call it "
					     "followed took %.1f ms to return and the stack sent it before then: the "
					     "harness cannot place it", by_ms, (double)call_ns / 1e6);
		if (early_ns > 0 && rs->previous_captured && rs->previous_capture_deferred_ns >= early_ns)
			return harness_error(rs, step, detail, "segment arrived %.1f ms too early after the previous "
					     "segment's capture, but ksoftirqd may have held that one back %.1f ms: its "
					     "capture time is no reference, the timing proves nothing", by_ms,
					     (double)rs->previous_capture_deferred_ns / 1e6);
		if (late_ns > 0)
			return step_failed(rs, step, detail, "segment arrived %.1f ms too late (%s: %s)", by_ms, span,
					   waited_text);
		return step_failed(rs, step, detail, "segment arrived %.1f ms too early", by_ms);
	}
	rs->previous_ns = got.at_ns;
	rs->previous_uncertainty_ns = 0;
	rs->previous_captured = true;
	/* Sent in its window, the segment cannot have lagged longer than ksoftirqd ran from the window's
	 * opening on. */
	rs->previous_capture_deferred_ns = since_open ? cpu_wait_between(since_open, &taken).deferred_ns : -1;
	return 0;
}

/* An observing line (explore.h) takes every segment to its peer sent by quiet_until as what the stack
 * did there (a late reader must not see a later retransmission as the answer); a judging one fails at
 * the first. Returns how many were observed, or -1 when the silence broke. */
static int take_or_refuse_pending(struct run_state *rs, const struct step *step, int64_t quiet_until)
{
	int observed = 0;
	for (int i = 0; step->observe && i < rs->pending_count;) {
		if (!pending_is_for(rs, i, step->peer) || rs->pending[i].at_ns > quiet_until) {
			i++;
			continue;
		}
		struct pending_segment got = rs->pending[i];
		memmove(&rs->pending[i], &rs->pending[i + 1], (size_t)(rs->pending_count - i - 1) * sizeof rs->pending[0]);
		rs->pending_count--;
		struct peer_state *peer = &rs->peers[step->peer];
		peer_learn(peer, &got.segment);
		rs->kernel_tsval_at_ns[step->peer] = got.at_ns;
		struct segment_spec view;
		peer_relative_view(peer, &got.segment, &view);
		struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, step, step->peer, got.at_ns);
		e->frame = got.frame;
		segment_format_spec(&view, e->observed, sizeof e->observed, NULL);
		snprintf(e->outcome, sizeof e->outcome, "%s", outcome_of_segment(got.segment.flags));
		observed++;
	}
	for (int i = 0; i < rs->pending_count && !step->observe; i++)
		if (pending_is_for(rs, i, step->peer)) {
			char *detail = describe_unexpected(rs, step, &rs->pending[i]);
			char starved[768];
			if (resent_while_starved(rs, &rs->pending[i], starved, sizeof starved))
				harness_error(rs, step, detail, "expected silence towards %s, but the stack sent a segment; %s",
					      peer_label(rs, step->peer), starved);
			else
				step_failed(rs, step, detail, "expected silence towards %s, but the stack sent a segment",
					    peer_label(rs, step->peer));
			free(detail);
			return -1;
		}
	return observed;
}

static int do_expect_none(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	int64_t quiet_until = w->earliest_ns + step->u.none_window_ns;
	int observed = 0;
	for (;;) {
		int taken = take_or_refuse_pending(rs, step, quiet_until);
		if (taken < 0)
			return -1;
		observed += taken;
		if (run_interrupted || wire_now_ns() >= quiet_until)
			break;
		bool got;
		if (pump(rs, quiet_until, &got) < 0)
			return -1;
	}
	/* Whatever reached the capture by now was sent within the quiet window or just after it; either
	 * way no line expected it, and blaming a later line would point at the wrong one. */
	if (drain(rs) < 0)
		return -1;
	int taken = take_or_refuse_pending(rs, step, quiet_until);
	if (taken < 0)
		return -1;
	rs->previous_ns = quiet_until;
	if (observed + taken > 0)
		return 0;
	struct run_event *e = add_event(rs, RUN_EVENT_SILENCE, step, step->peer, quiet_until);
	snprintf(e->expected, sizeof e->expected, "none within %.0f ms", (double)step->u.none_window_ns / 1e6);
	snprintf(e->observed, sizeof e->observed, "nothing");
	snprintf(e->outcome, sizeof e->outcome, OUTCOME_DROP);
	return 0;
}

static bool app_result_matches(const struct app_call *call, const struct agent_reply *reply)
{
	if (call->expect_text[0] && !reply->err && strcmp(reply->text, call->expect_text) != 0)
		return false;
	switch (call->expect) {
	case APP_EXPECT_ANY:
		return true;
	case APP_EXPECT_VALUE:
		return reply->err == 0 && reply->ret == call->expect_value;
	case APP_EXPECT_ERRNO:
		return reply->err == call->expect_errno;
	case APP_EXPECT_FAILURE:
		return reply->err != 0;
	case APP_EXPECT_SUCCESS:
	default:
		/* A non-blocking connect succeeds by starting; `app connected` reports how it ended. */
		return reply->err == 0 || (call->op == APP_CONNECT && reply->err == EINPROGRESS);
	}
}

static void describe_app_expectation(const struct app_call *call, char *buf, size_t size)
{
	switch (call->expect) {
	case APP_EXPECT_VALUE:
		snprintf(buf, size, "%lld", (long long)call->expect_value);
		break;
	case APP_EXPECT_ERRNO:
		snprintf(buf, size, "-1 %s", errno_name(call->expect_errno));
		break;
	case APP_EXPECT_FAILURE:
		snprintf(buf, size, "-1 (any errno)");
		break;
	default:
		snprintf(buf, size, "success");
		break;
	}
	if (call->expect_text[0] && call->expect != APP_EXPECT_ERRNO && call->expect != APP_EXPECT_FAILURE) {
		size_t len = strlen(buf);
		snprintf(buf + len, size - len, " {%s}", call->expect_text);
	}
}

/* The capture ring the case's largest storm needs (storm_ring_frames); 0, the wire's default, without one. */
static uint32_t ring_frames_for(const struct case_file *c)
{
	uint32_t frames = 0;
	for (int i = 0; i < c->step_count; i++)
		if (c->steps[i].kind == STEP_STORM && storm_ring_frames(c->steps[i].u.storm.count) > frames)
			frames = storm_ring_frames(c->steps[i].u.storm.count);
	return frames;
}

/* True when a storm of this case takes its connections from the listener handle. */
static bool storms_from(const struct case_file *c, const char *handle)
{
	for (int i = 0; i < c->step_count; i++)
		if (c->steps[i].kind == STEP_STORM && strcmp(c->steps[i].u.storm.listener, handle) == 0)
			return true;
	return false;
}

/* Calls that wait for the stack (a connection, data, a handshake's end) return when it acts; the others
 * return at once, so their effect lies anywhere between the request and the return. */
static bool app_call_waits(enum app_op op)
{
	return op == APP_ACCEPT || op == APP_RECV || op == APP_CONNECTED || op == APP_POLL;
}

/* When the agent says the call returned: its own stamp; a remote stack's clock is not ours, so there
 * the reply's arrival is the best the harness knows. */
static int64_t returned_ns(const struct run_state *rs, const struct agent_reply *reply)
{
	return rs->target.same_clock ? (int64_t)reply->when.tv_sec * 1000000000 + reply->when.tv_nsec : wire_now_ns();
}

static int check_app_reply(struct run_state *rs, const struct step *step, const struct agent_reply *reply,
			   const struct cpu_wait_snapshot *called);

/* The blocking call's reply (app_call.span_ns): its result, and its return at the end of its span
 * within the line's slack (packetdrill: the syscall's end time, run_system_call.c). */
static int finish_blocking_call(struct run_state *rs)
{
	const struct step *step = rs->blocking_step;
	if (!step)
		return 0;
	rs->blocking_step = NULL;
	struct agent_reply reply;
	char *error = NULL;
	if (agent_call_finish(rs->agent, &rs->blocking, &reply, &error) < 0) {
		harness_error(rs, step, NULL, "agent: %s", error ? error : "?");
		free(error);
		return -1;
	}
	int64_t due_ns = rs->blocking_requested_ns + step->u.app.span_ns, at_ns = returned_ns(rs, &reply);
	int64_t slack_ns = step->u.app.span_slack_ns;
	/* The agent gives up at the span's end and its slack: a call still waiting then says EAGAIN. */
	if (reply.err == EAGAIN && !app_result_matches(&step->u.app, &reply))
		return step_failed(rs, step, NULL, "the blocking call had not returned by +%.3f s (its span's end and "
				   "slack)", (double)(due_ns + slack_ns - rs->start_ns) / 1e9);
	/* What it waited for came when the harness sent it: an injection late within its window moves the
	 * return as much, which says nothing of the stack. */
	if (at_ns > due_ns + slack_ns && at_ns - (due_ns + slack_ns) <= rs->blocking_injected_late_ns)
		return harness_error(rs, step, NULL, "the blocking call returned at +%.3f s, %.1f ms after its span's "
				     "end and slack, but the segment injected while it blocked left %.1f ms late: the "
				     "harness cannot place its return", (double)(at_ns - rs->start_ns) / 1e9,
				     (double)(at_ns - due_ns - slack_ns) / 1e6, (double)rs->blocking_injected_late_ns / 1e6);
	if (at_ns < due_ns - slack_ns || at_ns > due_ns + slack_ns)
		return step_failed(rs, step, NULL, "the blocking call returned at +%.3f s, expected +%.3f~%.3f s",
				   (double)(at_ns - rs->start_ns) / 1e9, (double)(due_ns - slack_ns - rs->start_ns) / 1e9,
				   (double)(due_ns + slack_ns - rs->start_ns) / 1e9);
	return check_app_reply(rs, step, &reply, &rs->blocking_called);
}

static int do_app(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	struct agent_reply reply;
	char *error = NULL;
	struct app_call call = step->u.app;
	/* A storm's listener must get the backlog the case asks for, which somaxconn would cap. */
	if (call.op == APP_LISTEN && call.backlog > 0 && storms_from(rs->c, call.handle) &&
	    storm_raise_limits(rs->agent, (uint32_t)call.backlog, &error) < 0) {
		harness_error(rs, step, NULL, "storm listener: %s", error ? error : "?");
		free(error);
		return -1;
	}
	/* A target with an address of its own: the case's address in a call means the target's. */
	if (call.ip && call.ip == rs->c->target_ip)
		call.ip = rs->target.target_ip;
	for (int i = 0; call.active_open && i < rs->c->peer_count; i++)
		rs->peers[i].awaiting_active_open = rs->peers[i].decl->follows_active_opens;
	int64_t requested_ns = wire_now_ns();
	if (requested_ns > w->close_ns) {
		char waited[256];
		waited_since_previous_line(rs, waited, sizeof waited);
		return harness_error(rs, step, NULL, "the call went to the agent %.1f ms late, after its window closed "
				     "at +%.3f s (the harness was descheduled or stopped: %s)",
				     (double)(requested_ns - w->earliest_ns) / 1e6, (double)(w->close_ns - rs->start_ns) / 1e9,
				     waited);
	}
	if (call.span_ns > 0) {
		/* The next lines run while it blocks; they count from when it was made. */
		if (agent_call_start(rs->agent, &call, &rs->blocking, &error) < 0) {
			harness_error(rs, step, NULL, "agent: %s", error ? error : "?");
			free(error);
			return -1;
		}
		rs->blocking_step = step;
		rs->blocking_requested_ns = requested_ns;
		rs->blocking_injected_late_ns = 0;
		cpu_wait_snapshot(&rs->blocking_called);
		rs->previous_ns = requested_ns;
		rs->previous_uncertainty_ns = 0;
		return 0;
	}
	struct cpu_wait_snapshot called;
	cpu_wait_snapshot(&called);
	if (agent_call(rs->agent, &call, &reply, &error) < 0) {
		harness_error(rs, step, NULL, "agent: %s", error ? error : "?");
		free(error);
		return -1;
	}
	/* A call that waits for the stack returns when the stack acted: that return is its place. Any other
	 * call acted somewhere between its due time and its return, and a timer it or an earlier call of the
	 * chain started keeps that doubt: the harness's lateness since the last wire event adds up. */
	int64_t reference_ns = step->when.clock_at_call ? requested_ns : returned_ns(rs, &reply);
	rs->call_requested_ns = requested_ns;
	rs->call_returned_ns = returned_ns(rs, &reply);
	rs->previous_uncertainty_ns = app_call_waits(call.op)	    ? 0
				      : reference_ns <= w->earliest_ns ? rs->previous_uncertainty_ns
								       : rs->previous_uncertainty_ns + (reference_ns - w->earliest_ns);
	rs->previous_ns = reference_ns;
	return check_app_reply(rs, step, &reply, &called);
}

/* The call's result against its line: an event for the report, a failure with the wire so far. */
static int check_app_reply(struct run_state *rs, const struct step *step, const struct agent_reply *reply_in,
			   const struct cpu_wait_snapshot *called)
{
	const struct app_call call = step->u.app;
	struct agent_reply reply = *reply_in;
	char expected[160];
	describe_app_expectation(&step->u.app, expected, sizeof expected);
	struct run_event *e = add_event(rs, RUN_EVENT_APP, step, -1, rs->previous_ns);
	e->broke = !app_result_matches(&step->u.app, &reply);
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	if (reply.err)
		snprintf(e->observed, sizeof e->observed, "-1 %s", errno_name(reply.err));
	else if (call.expect_text[0] && reply.text[0])
		snprintf(e->observed, sizeof e->observed, "%lld {%.200s}", (long long)reply.ret, reply.text);
	else
		snprintf(e->observed, sizeof e->observed, "%lld", (long long)reply.ret);
	outcome_of_app(step->u.app.op, reply.err, reply.ret, e->outcome);
	if (e->broke) {
		if (drain(rs) < 0)
			return -1;
		char *wire = describe_wire_since_previous_line(rs);
		/* A call that waited for the stack (a connection, data) and timed out may have waited on the
		 * stack's deferred work (ksoftirqd) rather than on its TCP: so when that was runnable as long. */
		char waited_text[512];
		struct cpu_wait waited = waited_since(called, waited_text, sizeof waited_text);
		if (app_call_waits(call.op) && reply.err == EAGAIN) {
			int64_t now = wire_now_ns();
			add_guest_stalls(rs, now - waited.span_ns, now, &waited, waited_text, sizeof waited_text);
		}
		if (app_call_waits(call.op) && reply.err == EAGAIN && cpu_wait_explains(&waited, call.timeout_ns))
			harness_error(rs, step, wire, "application call returned -1 EAGAIN after waiting %.0f ms, but %s: the "
				      "stack's deferred work (or a guest's timers) was starved, it proves nothing",
				      (double)call.timeout_ns / 1e6,
				      waited_text);
		else if (reply.err)
			step_failed(rs, step, wire, "application call returned -1 %s, expected %s", errno_name(reply.err),
				    expected);
		else
			step_failed(rs, step, wire, "application call returned %s, expected %s", e->observed, expected);
		free(wire);
		return -1;
	}
	return 0;
}

static bool timer_in_window(const struct step *step, int64_t timer_ms)
{
	return timer_ms >= 0 && timer_ms * 1000000 >= step->u.expected.timer_min_ns &&
	       timer_ms * 1000000 <= step->u.expected.timer_max_ns;
}

static struct counter_baseline *baseline_of(struct run_state *rs, const char *name)
{
	for (int i = 0; i < rs->baseline_count; i++)
		if (strcmp(rs->baselines[i].name, name) == 0)
			return &rs->baselines[i];
	return NULL;
}

/* One reading of a line's evidence from the stack: a socket's state and timer, or a counter's delta. */
struct reading {
	struct socket_evidence socket;
	int64_t delta;
	int64_t asked_ns, answered_ns; /* the harness's request, the agent's answer */
};

/* Reads the evidence of step into *r: 0, or -1 with the failure recorded (an ERROR: the agent broke),
 * or 1 when the stack cannot show it (the line is then recorded as unchecked). */
typedef int (*read_evidence)(struct run_state *rs, const struct step *step, struct reading *r);
typedef bool (*evidence_holds)(const struct step *step, const struct reading *r);

static int read_socket(struct run_state *rs, const struct step *step, struct reading *r)
{
	const struct peer_state *peer = &rs->peers[step->peer];
	char *error = NULL;
	r->asked_ns = wire_now_ns();
	int rc = agent_socket_state(rs->agent, &rs->target_address, peer->target_port, &peer->address, peer->port,
				    &r->socket, &error);
	r->answered_ns = wire_now_ns();
	if (rc < 0) {
		/* gVisor has no sock_diag: its agent says so with EOPNOTSUPP. */
		rc = rs->agent->last_err == EOPNOTSUPP ? 1 : -1;
		if (rc < 0)
			harness_error(rs, step, NULL, "socket state: %s", error ? error : "?");
	}
	free(error);
	return rc;
}

static bool socket_holds(const struct step *step, const struct reading *r)
{
	return r->socket.state == step->u.expected.state &&
	       (!step->u.expected.check_timer || timer_in_window(step, r->socket.timer_ms));
}

static int read_counter(struct run_state *rs, const struct step *step, struct reading *r)
{
	const struct counter_baseline *before = baseline_of(rs, step->u.counter.name);
	if (!before->exists)
		return 1;
	int64_t now = 0;
	char *error = NULL;
	r->asked_ns = wire_now_ns();
	int found = agent_counter(rs->agent, step->u.counter.name, &now, &error);
	r->answered_ns = wire_now_ns();
	if (found < 0)
		harness_error(rs, step, NULL, "reading counters: %s", error ? error : "?");
	else if (found == 0)
		step_failed(rs, step, NULL, "the stack no longer has a counter named %s", step->u.counter.name);
	free(error);
	r->delta = now - before->value;
	return found == 1 ? 0 : -1;
}

static bool counter_holds(const struct step *step, const struct reading *r)
{
	return r->delta == step->u.counter.delta;
}

/* Whether evidence that does not hold yet may still come: a state may change, but a counter that went
 * past its expected move never comes back. */
static bool counter_may_come(const struct step *step, const struct reading *r)
{
	return r->delta < step->u.counter.delta;
}

static bool socket_may_come(const struct step *step, const struct reading *r)
{
	(void)step;
	(void)r;
	return true;
}

/* A quiet period is watched at this pace: a counter only grows, so a move between two readings shows
 * in the next; a state that left and came back within it would not. */
#define HOLD_READ_INTERVAL_NS (5 * 1000000LL)

enum watch_result {
	WATCH_HELD,    /* the evidence held: at the line's time (within the tolerance), and over `for T` */
	WATCH_BROKE,   /* the stack broke it: *r is the reading that did, taken in time */
	WATCH_LATE,    /* the harness could not read in time: *r was taken *late_ns after it should */
	WATCH_FAILED,  /* recorded already: the agent broke */
	WATCH_UNSEEN,  /* the stack cannot show this evidence */
	WATCH_STARVED, /* it did not hold in time, but the stack's deferred work was held back as long */
};

/* Evidence that did not hold by its window's end may wait on the stack's deferred work (ksoftirqd), as a
 * segment may: the harness reads on for DELIVERY_GRACE_NS. Holding only then, or never, breaks the line
 * (*r stays the reading that did, in time) unless ksoftirqd was runnable at least as long as the evidence
 * was overdue; why then says so. Never a pass: what held late is no proof either. */
static enum watch_result settle_overdue(struct run_state *rs, const struct step *step, const struct step_window *w,
					read_evidence read, evidence_holds holds, evidence_holds may_come,
					struct reading *r, char *why, size_t why_size)
{
	if (!may_come(step, r))
		return WATCH_BROKE;
	struct cpu_wait_snapshot at_close;
	cpu_wait_snapshot(&at_close);
	struct reading later = *r;
	bool held = false;
	while (!run_interrupted && !held && later.asked_ns < w->close_ns + DELIVERY_GRACE_NS) {
		sleep_until(wire_now_ns() + HOLD_READ_INTERVAL_NS);
		if (read(rs, step, &later) != 0)
			return WATCH_FAILED;
		held = holds(step, &later);
		if (!held && !may_come(step, &later))
			return WATCH_BROKE;
	}
	int64_t overdue_ns = later.asked_ns - w->close_ns;
	char waited_text[512];
	struct cpu_wait waited = waited_since(&at_close, waited_text, sizeof waited_text);
	if (!run_interrupted)
		add_guest_stalls(rs, w->close_ns, later.asked_ns, &waited, waited_text, sizeof waited_text);
	if (run_interrupted || !cpu_wait_explains(&waited, overdue_ns))
		return WATCH_BROKE;
	snprintf(why, why_size, "%s %.1f ms after its window, but from the window's end on, %s",
		 held ? "it held only" : "it still did not hold", (double)overdue_ns / 1e6, waited_text);
	return WATCH_STARVED;
}

/* Watches a line's evidence from the line's time on (never before): it must hold by the window's end
 * (the stack acts in softirq context right after a segment, so a first reading may race it), and with
 * `for T` at every reading until T has passed. */
static enum watch_result watch(struct run_state *rs, const struct step *step, const struct step_window *w,
			       read_evidence read, evidence_holds holds, evidence_holds may_come, struct reading *r,
			       int64_t *late_ns, char *why, size_t why_size)
{
	sleep_until(w->earliest_ns);
	int64_t hold_end_ns = w->earliest_ns + step->hold_ns;
	bool held = false, first = true;
	for (;;) {
		int rc = read(rs, step, r);
		if (rc != 0)
			return rc > 0 ? WATCH_UNSEEN : WATCH_FAILED;
		bool ok = holds(step, r);
		/* First asked after the window closed: the reading is of another moment than the line's. */
		if (first && r->asked_ns > w->close_ns) {
			*late_ns = r->asked_ns - w->close_ns;
			return WATCH_LATE;
		}
		/* An observing line (explore) records its first reading, taken in time, and judges nothing. */
		if (step->observe)
			return WATCH_HELD;
		first = false;
		if (!ok && held) {
			*late_ns = r->asked_ns - hold_end_ns;
			return *late_ns > rs->options->tolerance_ns ? WATCH_LATE : WATCH_BROKE;
		}
		if (!ok && run_interrupted)
			return WATCH_BROKE;
		if (!ok && r->asked_ns >= w->close_ns)
			return settle_overdue(rs, step, w, read, holds, may_come, r, why, why_size);
		held |= ok;
		if (held && r->asked_ns >= hold_end_ns)
			return WATCH_HELD;
		if (run_interrupted)
			return WATCH_BROKE;
		sleep_until(wire_now_ns() + (held ? HOLD_READ_INTERVAL_NS : POLL_INTERVAL_NS));
	}
}

/* The line's time on the timeline is when it reads (its quiet period's end with `for T`), never when
 * the harness finished reading. */
static void checked_at_its_time(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	rs->previous_ns = w->earliest_ns + step->hold_ns;
}

/* The end of an `expect state|counter` line after watch(), its event recorded: the verdict. broke says
 * how the stack broke the line (WATCH_BROKE, WATCH_STARVED); what names the evidence for a late reading;
 * why is watch()'s evidence for WATCH_STARVED. */
static int judge_watch(struct run_state *rs, const struct step *step, const struct step_window *w,
		       enum watch_result result, const struct reading *r, int64_t late_ns, const char *what,
		       const char *broke, const char *why)
{
	if (result == WATCH_STARVED)
		return harness_error(rs, step, NULL, "%s at the window's end; %s: the stack's deferred work was "
				     "starved, it proves nothing", broke, why);
	if (result == WATCH_LATE) {
		char waited[256];
		waited_since_previous_line(rs, waited, sizeof waited);
		return harness_error(rs, step, NULL, "%s read %.1f ms late (at +%.3f s; the harness was descheduled or "
				     "stopped: %s): it proves nothing", what, (double)late_ns / 1e6,
				     (double)(r->asked_ns - rs->start_ns) / 1e9, waited);
	}
	if (result == WATCH_BROKE) {
		char when[96] = "";
		if (step->hold_ns && r->asked_ns > w->earliest_ns)
			snprintf(when, sizeof when, ", at +%.3f s inside its %.3f s quiet period",
				 (double)(r->asked_ns - rs->start_ns) / 1e9, (double)step->hold_ns / 1e9);
		return step_failed(rs, step, NULL, "%s%s", broke, when);
	}
	checked_at_its_time(rs, step, w);
	return 0;
}

static int do_expect_state(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	const struct peer_state *peer = &rs->peers[step->peer];
	if (peer->target_port == 0)
		return step_failed(rs, step, NULL, "no 4-tuple for %s yet: the stack's port is unknown",
				   peer->decl->name);
	int want = step->u.expected.state;
	bool timer_checked = step->u.expected.check_timer;
	char expected[RUN_EVENT_TEXT];
	int n = snprintf(expected, sizeof expected, "%s", tcp_state_name(want));
	if (timer_checked)
		n += snprintf(expected + n, sizeof expected - (size_t)n, " timer %.3f~%.3f s",
			      (double)step->u.expected.timer_min_ns / 1e9, (double)step->u.expected.timer_max_ns / 1e9);
	if (step->hold_ns)
		snprintf(expected + n, sizeof expected - (size_t)n, " for %.3f s", (double)step->hold_ns / 1e9);
	struct reading r = { .socket = { -1, -1 } };
	int64_t late_ns = 0;
	char why[768] = "";
	enum watch_result result = watch(rs, step, w, read_socket, socket_holds, socket_may_come, &r, &late_ns, why,
					 sizeof why);
	if (result == WATCH_UNSEEN) {
		step_unchecked(rs, step, RUN_EVENT_STATE, expected,
			       "expect state: the stack's socket states cannot be read (EOPNOTSUPP)");
		checked_at_its_time(rs, step, w);
		return 0;
	}
	if (result == WATCH_FAILED)
		return -1;
	struct run_event *e = add_event(rs, RUN_EVENT_STATE, step, step->peer, r.asked_ns);
	e->broke = result == WATCH_BROKE || result == WATCH_STARVED;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->outcome, sizeof e->outcome, "%s", tcp_state_name(r.socket.state));
	const char *name = peer->decl->name, *seen = tcp_state_name(r.socket.state);
	if (timer_checked)
		snprintf(e->observed, sizeof e->observed, "%s timer %.3f s", seen, (double)r.socket.timer_ms / 1e3);
	else
		snprintf(e->observed, sizeof e->observed, "%s", seen);
	char broke[RUN_EVENT_TEXT + 64], what[CASE_NAME_MAX + 32];
	if (r.socket.state != want)
		snprintf(broke, sizeof broke, "socket state of %s is %s, expected %s", name, seen, tcp_state_name(want));
	else if (r.socket.timer_ms < 0)
		snprintf(broke, sizeof broke, "%s's socket has no timer pending", name);
	else
		snprintf(broke, sizeof broke, "%s's socket timer fires in %.3f s, expected %.3f~%.3f s", name,
			 (double)r.socket.timer_ms / 1e3, (double)step->u.expected.timer_min_ns / 1e9,
			 (double)step->u.expected.timer_max_ns / 1e9);
	snprintf(what, sizeof what, "socket state of %s", name);
	return judge_watch(rs, step, w, result, &r, late_ns, what, broke, why);
}

static int do_expect_counter(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	char expected[RUN_EVENT_TEXT];
	int n = snprintf(expected, sizeof expected, "%s %+lld", step->u.counter.name, (long long)step->u.counter.delta);
	if (step->hold_ns)
		snprintf(expected + n, sizeof expected - (size_t)n, " for %.3f s", (double)step->hold_ns / 1e9);
	struct reading r = { .delta = 0 };
	int64_t late_ns = 0;
	char why[768] = "";
	enum watch_result result = watch(rs, step, w, read_counter, counter_holds, counter_may_come, &r, &late_ns, why,
					 sizeof why);
	/* read_baselines read every counter a line names; the stack has those it found. A case that cannot
	 * mean anything without one says `require counter`. */
	if (result == WATCH_UNSEEN) {
		char reason[128];
		snprintf(reason, sizeof reason, "counter %s: the stack has no such counter", step->u.counter.name);
		step_unchecked(rs, step, RUN_EVENT_COUNTER, expected, reason);
		checked_at_its_time(rs, step, w);
		return 0;
	}
	if (result == WATCH_FAILED)
		return -1;
	struct run_event *e = add_event(rs, RUN_EVENT_COUNTER, step, -1, r.asked_ns);
	e->broke = result == WATCH_BROKE || result == WATCH_STARVED;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "%s %+lld", step->u.counter.name, (long long)r.delta);
	snprintf(e->outcome, sizeof e->outcome, "%.24s%+lld", step->u.counter.name, (long long)r.delta);
	char broke[160], what[96];
	snprintf(broke, sizeof broke, "counter %s moved by %+lld, expected %+lld", step->u.counter.name,
		 (long long)r.delta, (long long)step->u.counter.delta);
	snprintf(what, sizeof what, "counter %s", step->u.counter.name);
	return judge_watch(rs, step, w, result, &r, late_ns, what, broke, why);
}

/* Same clock: B's TSval is A's plus the ticks between the two segments, within 20 ms of them;
 * otherwise the stack put an offset between them. The target measured its tick (target.ts_hz): ms
 * since Linux 4.13 (tcp_time_stamp_raw), jiffies before (HZ 100..1000). */
#define SAME_CLOCK_SLACK_MS 20

/* Compares TSvals already captured, so the line's time is only its place on the timeline, at_ns. */
static int do_expect_clock(struct run_state *rs, const struct step *step, int64_t at_ns)
{
	int a = step->peer, b = step->u.clock.other_peer;
	for (int i = 0; i < 2; i++) {
		int p = i ? b : a;
		if (!rs->peers[p].kernel_tsval_known)
			return step_failed(rs, step, NULL, "the stack has sent %s no TSval yet", rs->c->peers[p].name);
	}
	int hz = rs->target.ts_hz;
	int64_t elapsed = (rs->kernel_tsval_at_ns[b] - rs->kernel_tsval_at_ns[a]) * hz / 1000000000;
	int64_t offset = (int64_t)(int32_t)(rs->peers[b].kernel_tsval - rs->peers[a].kernel_tsval) - elapsed;
	int64_t slack = SAME_CLOCK_SLACK_MS * hz / 1000 + 1;
	bool same = offset >= -slack && offset <= slack;
	const char *an = rs->c->peers[a].name, *bn = rs->c->peers[b].name;
	struct run_event *e = add_event(rs, RUN_EVENT_CLOCK, step, a, wire_now_ns());
	e->broke = same != step->u.clock.same;
	snprintf(e->expected, sizeof e->expected, "%s and %s: %s", an, bn,
		 step->u.clock.same ? "one TS clock" : "TS clocks offset");
	snprintf(e->observed, sizeof e->observed, "%s's TSval = %s's %+lld ticks elapsed (%d Hz) %+lld", bn, an,
		 (long long)elapsed, hz, (long long)offset);
	snprintf(e->outcome, sizeof e->outcome, "%s", same ? "SAME-CLOCK" : "OFFSET");
	if (e->broke)
		return step_failed(rs, step, NULL, "the stack's TSvals to %s and %s are %s: %s's is %s's %+lld ticks "
				   "elapsed (%d Hz) %+lld", an, bn, same ? "one clock" : "offset from each other", bn, an,
				   (long long)elapsed, hz, (long long)offset);
	rs->previous_ns = at_ns;
	rs->previous_uncertainty_ns = 0;
	return 0;
}

struct tcp_info_lookup {
	struct run_state *rs;
	const struct step *step;
	int err;     /* the stack's errno when it would not give TCP_INFO */
	char *error; /* the agent broke */
};

static bool look_up_tcp_info(const char *field, void *context, int64_t *value)
{
	struct tcp_info_lookup *l = context;
	struct app_call call = { .op = APP_TCP_INFO };
	snprintf(call.handle, sizeof call.handle, "%s", l->step->u.tcp_info.handle);
	snprintf(call.option, sizeof call.option, "%s", field);
	struct agent_reply reply;
	if (l->error || agent_call(l->rs->agent, &call, &reply, &l->error) < 0)
		return false;
	l->err = reply.err;
	*value = reply.ret;
	return reply.err == 0;
}

/* A .pkt's %{ }%: the conditions on the socket's TCP_INFO, read now, field by field. */
static int do_expect_tcp_info(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	struct tcp_info_lookup lookup = { rs, step, 0, NULL };
	char *failure = NULL;
	int rc = pkt_code_check(step->u.tcp_info.conditions, look_up_tcp_info, &lookup, &failure);
	int64_t answered_ns = wire_now_ns();
	char expected[RUN_EVENT_TEXT];
	snprintf(expected, sizeof expected, "%%{ assert %.*s }%%", (int)strcspn(step->u.tcp_info.conditions, "\n"),
		 step->u.tcp_info.conditions);
	if (rc < 0 && !lookup.error && (lookup.err == ENOPROTOOPT || lookup.err == EOPNOTSUPP)) {
		char *reason = message("the stack's TCP_INFO cannot be read (%s)", errno_name(lookup.err));
		step_unchecked(rs, step, RUN_EVENT_APP, expected, reason ? reason : "TCP_INFO");
		free(reason);
		free(failure);
		return 0;
	}
	if (rc < 0) {
		step_failed(rs, step, NULL, "tcp_info: %s", lookup.error ? lookup.error : failure ? failure : "?");
		free(lookup.error);
		free(failure);
		return -1;
	}
	rs->previous_ns = wire_now_ns();
	struct run_event *e = add_event(rs, RUN_EVENT_APP, step, -1, rs->previous_ns);
	e->broke = rc != 0;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "%s", rc ? failure : "holds");
	/* The fields that count time (tcpi_last_data_recv, tcpi_rwnd_limited, tcpi_busy_time...) and the
	 * state an ACK processed meanwhile changes are of the moment they are read: a harness that read
	 * them late read another moment than the line's. */
	int64_t late_ns = answered_ns - w->earliest_ns;
	if (rc && late_ns > rs->options->tolerance_ns) {
		harness_error(rs, step, NULL, "%s, but the harness read TCP_INFO %.1f ms after the line's time: it "
			      "read another moment, which proves nothing", failure ? failure : "an assertion failed",
			      (double)late_ns / 1e6);
		free(failure);
		return -1;
	}
	if (rc) {
		step_failed(rs, step, NULL, "%s", failure ? failure : "an assertion failed");
		free(failure);
		return -1;
	}
	return 0;
}

/* A sysctl the script sets while it runs (packetdrill runs a backtick command at its line's time,
 * run_command.c), in the case's namespace as its own sysctls are. A stack without the key never gets
 * here (the case requires it); one that refuses the value fails the line, as the script's `sysctl`
 * command would fail it under packetdrill. */
static int do_sysctl(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	const struct sysctl_setting *setting = &step->u.sysctl;
	int64_t called_ns = wire_now_ns();
	char *why = NULL;
	int rc = agent_sysctl_set(rs->agent, setting->key, setting->value, &why);
	int err = rs->agent->last_err;
	rs->previous_ns = called_ns;
	rs->previous_uncertainty_ns = 0;
	struct run_event *e = add_event(rs, RUN_EVENT_APP, step, -1, called_ns);
	e->broke = rc != 0;
	snprintf(e->expected, sizeof e->expected, "sysctl %s=%s", setting->key, setting->value);
	snprintf(e->observed, sizeof e->observed, "%s", rc == 0 ? "set" : err ? errno_name(err) : "agent error");
	if (rc != 0 && !err) {
		harness_error(rs, step, NULL, "agent: %s", why ? why : "?");
		free(why);
		return -1;
	}
	if (rc != 0) {
		step_failed(rs, step, NULL, "sysctl %s=%s: the stack refused it (%s)", setting->key, setting->value,
			    why ? why : errno_name(err));
		free(why);
		return -1;
	}
	return 0;
}

/* Whole lifecycles from the peer's address on consecutive ports; storm.c checks every segment, so the
 * line breaks on the first one the stack gets wrong. */
static int do_storm(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	if (check_nothing_unexpected(rs, step, "before this storm") < 0)
		return -1;
	const struct peer_state *peer = &rs->peers[step->peer];
	if (peer->target_port == 0)
		return step_failed(rs, step, NULL, "no port to storm: %s has no `to PORT` and no app listen came first",
				   peer->decl->name);
	struct storm_plan plan = { rs->target_address, peer->target_port, peer->address, peer->decl->port,
				   step->u.storm.count, peer->decl->isn, step->u.storm.listener,
				   target_max_pps(rs->options->target) };
	struct storm_result result;
	char *error = NULL;
	int rc = storm_run(rs->wire, rs->agent, &plan, &result, &error);
	if (rc < 0) {
		harness_error(rs, step, NULL, "storm: %s", error ? error : "?");
		free(error);
		return -1;
	}
	struct run_event *e = add_event(rs, RUN_EVENT_STORM, step, step->peer, wire_now_ns());
	e->broke = rc != 0;
	snprintf(e->expected, sizeof e->expected, "%u lifecycles: S. / F. / . for each", plan.count);
	snprintf(e->observed, sizeof e->observed,
		 "%u established, %u closed by the stack, %u final ACKs, %u resent (%u ACKed again), in %.1f ms",
		 result.established, result.closed_by_stack, result.time_wait_acked, result.retransmissions,
		 result.acks_again, (double)result.elapsed_ns / 1e6);
	snprintf(e->outcome, sizeof e->outcome, "%s", rc == 0 ? "ACCEPT" : "");
	if (rc != 0) {
		size_t len = strlen(result.mismatch);
		char detail[sizeof result.mismatch + 8];
		snprintf(detail, sizeof detail, "%s%s", result.mismatch, len && result.mismatch[len - 1] == '\n' ? "" : "\n");
		/* A segment the storm never saw may have been lost by the capture (its ring full of the stack's
		 * retransmissions while the harness was descheduled), or still be queued behind the stack's
		 * deferred work: then the storm proves nothing. */
		int64_t dropped_now = wire_capture_dropped(rs->wire);
		int64_t dropped = dropped_now < 0 || rs->line_dropped < 0 ? 0 : dropped_now - rs->line_dropped;
		struct cpu_wait_snapshot now;
		cpu_wait_snapshot(&now);
		struct cpu_wait waited = cpu_wait_between(&rs->line_wait, &now);
		char waited_text[256];
		cpu_wait_format(&waited, waited_text, sizeof waited_text);
		if (result.missing && dropped > 0)
			return harness_error(rs, step, detail, "the storm missed a segment after %u of %u lifecycles, but "
					     "the capture lost %lld frames meanwhile (its ring was full): it cannot tell",
					     result.time_wait_acked, plan.count, (long long)dropped);
		if (result.missing && waited.deferred_ns >= STORM_WAIT_NS)
			return harness_error(rs, step, detail, "the storm missed a segment after %u of %u lifecycles, but "
					     "%s: the stack's deferred work may not have run yet, it cannot tell",
					     result.time_wait_acked, plan.count, waited_text);
		if (result.crossed)
			return harness_error(rs, step, detail, "the storm saw a FIN resent before its final ACK arrive "
					     "after it, after %u of %u lifecycles: the link's per-CPU queues may have "
					     "reordered them, it cannot tell (%s)", result.time_wait_acked, plan.count,
					     waited_text);
		return step_failed(rs, step, detail, "the storm broke after %u of %u lifecycles (%s)",
				   result.time_wait_acked, plan.count, waited_text);
	}
	rs->previous_ns = wire_now_ns();
	rs->previous_uncertainty_ns = 0;
	return 0;
}

/* Steps that talk to the agent, which answers a blocking call first. */
static bool step_asks_agent(const struct step *step)
{
	return step->kind == STEP_APP || step->kind == STEP_EXPECT_STATE || step->kind == STEP_EXPECT_COUNTER ||
	       step->kind == STEP_EXPECT_TCP_INFO || step->kind == STEP_STORM || step->kind == STEP_SYSCTL;
}

static int run_step(struct run_state *rs, const struct step *step)
{
	struct step_window w = window_of(rs, step);
	/* A blocking call that would be over before this line (its span's end and slack passed) has its
	 * verdict first: a call that gave up there must not be judged by what the stack did after. */
	bool blocking_over = rs->blocking_step && w.earliest_ns > rs->blocking_requested_ns +
								   rs->blocking_step->u.app.span_ns +
								   rs->blocking_step->u.app.span_slack_ns;
	if ((step_asks_agent(step) || blocking_over) && finish_blocking_call(rs) < 0)
		return -1;
	if (blocking_over)
		w = window_of(rs, step);
	switch (step->kind) {
	case STEP_INJECT:
		return do_inject(rs, step, &w);
	case STEP_EXPECT_SEGMENT:
		return do_expect_segment(rs, step, &w);
	case STEP_EXPECT_NONE:
		return do_expect_none(rs, step, &w);
	case STEP_APP:
		return do_app(rs, step, &w);
	case STEP_EXPECT_STATE:
		return do_expect_state(rs, step, &w);
	case STEP_EXPECT_COUNTER:
		return do_expect_counter(rs, step, &w);
	case STEP_EXPECT_CLOCK:
		sleep_until(w.earliest_ns);
		return do_expect_clock(rs, step, w.earliest_ns);
	case STEP_STORM:
		return do_storm(rs, step, &w);
	case STEP_EXPECT_TCP_INFO:
		return do_expect_tcp_info(rs, step, &w);
	case STEP_SYSCTL:
		return do_sysctl(rs, step, &w);
	case STEP_WAIT:
	case STEP_INCARNATION:
	case STEP_TSCLOCK_JUMP:
		/* Every line's time is honoured, so `+0.1 c incarnation` happens 100 ms later. */
		sleep_until(w.earliest_ns);
		rs->previous_ns = w.earliest_ns;
		break;
	}
	if (step->kind == STEP_INCARNATION)
		peer_new_incarnation(&rs->peers[step->peer], step->u.incarnation.seq_delta,
				     step->u.incarnation.ts_delta);
	else if (step->kind == STEP_TSCLOCK_JUMP)
		rs->peers[step->peer].ts_jump += step->u.ts_jump;
	return 0;
}

/* A new capture file for this case, variant and family (family < 0: the run's name carries none)
 * under dir, as <case>[@variant][/family].pcapng or .pcap (output_file.h: never through a symlink,
 * never over an existing file); *path says where. NULL with *error. */
static FILE *create_capture(const struct case_file *c, int variant, int family, const char *dir,
			    enum capture_format format, char **path, char **error)
{
	char *name = message("%s%s%s%s%s", c->name, variant >= 0 ? "@" : "", variant >= 0 ? c->variants[variant].name : "",
			     family >= 0 ? "/" : "", family >= 0 ? family_name((enum address_family)family) : "");
	if (!name) {
		error_set(error, "out of memory");
		return NULL;
	}
	FILE *capture = output_file_create(dir, name, capture_format_suffix(format), path, error);
	free(name);
	return capture;
}

/* The sysctls a variant runs with: the case's own, then the variant's. */
static int collect_sysctls(const struct case_file *c, int variant, struct sysctl_setting *out)
{
	int n = 0;
	for (int i = 0; i < c->sysctl_count; i++)
		out[n++] = c->sysctls[i];
	if (variant >= 0)
		for (int i = 0; i < c->variants[variant].sysctl_count; i++)
			out[n++] = c->variants[variant].sysctls[i];
	return n;
}

static bool is_privilege_error(const char *error)
{
	return error && (strstr(error, "Operation not permitted") || strstr(error, "Permission denied"));
}

/* Why the target cannot run the case (a sysctl, counter or TCP option it lacks), or NULL. -1 when the
 * agent or the capability probe failed. The probe runs before the case's sysctls are set, so that it
 * sees the stack as it comes: a case that turns an option off itself still needs it to exist. */
static int missing_requirement(struct run_state *rs, char **reason)
{
	*reason = NULL;
	struct capability_report capabilities;
	bool probed = false;
	for (int i = 0; i < rs->c->require_count && !*reason; i++) {
		const struct requirement *r = &rs->c->requires[i];
		if (r->kind == REQUIRE_OPTION) {
			if (!probed && capability_probe(&rs->target, &rs->c->peers[0], &capabilities, reason) < 0)
				return -1;
			probed = true;
			*reason = capability_missing(&capabilities, r);
			continue;
		}
		int64_t value;
		int exists = r->kind == REQUIRE_SYSCTL ? agent_sysctl_exists(rs->agent, r->name, reason)
						       : agent_counter(rs->agent, r->name, &value, reason);
		if (exists < 0)
			return -1;
		if (!exists)
			*reason = message("requires %s %s, which the stack under test (%s) does not have%s",
					  r->kind == REQUIRE_SYSCTL ? "sysctl" : "counter", r->name,
					  target_label(rs->options->target),
					  strcmp(r->name, "net.ipv4.tcp_tw_recycle") == 0 ? " (removed in Linux 4.12)" : "");
	}
	return 0;
}

/* Sysctl values as a stack prints them (`40000\t40000`) and as a case writes them (`40000 40000`). */
static bool same_sysctl_value(const char *a, const char *b)
{
	static const char blanks[] = " \t\n";
	for (;;) {
		a += strspn(a, blanks);
		b += strspn(b, blanks);
		size_t a_len = strcspn(a, blanks), b_len = strcspn(b, blanks);
		if (a_len != b_len || memcmp(a, b, a_len) != 0)
			return false;
		if (a_len == 0)
			return true;
		a += a_len;
		b += b_len;
	}
}

/* How a stack refuses a value it will not take (gVisor: EACCES even for the value it holds). EPERM is
 * not one: the agent lacks the privilege (its text says so), which says nothing about the stack: a SKIP
 * naming it. */
static bool is_refusal(int err)
{
	return err == EACCES || err == EROFS || err == EINVAL;
}

/* Why the stack cannot run the case with the key set to wanted, after agent_sysctl_set failed with err:
 * it has no such key, or refuses the value and holds another one. NULL when it refused but already
 * holds wanted. -1 with *error when the failure (or reading the value back) was not the stack's. */
static int sysctl_refusal(struct run_state *rs, const char *key, const char *wanted, int err, char **reason,
			  char **error)
{
	*reason = NULL;
	if (err == ENOENT) {
		*reason = message("the stack under test (%s) has no sysctl %s", target_label(rs->options->target), key);
		return 0;
	}
	if (!is_refusal(err))
		return -1;
	char current[SYSCTL_VALUE_MAX];
	if (agent_sysctl_get(rs->agent, key, current, sizeof current, error) < 0)
		return -1;
	if (!same_sysctl_value(current, wanted))
		*reason = message("sysctl %s %s on the stack under test (%s; %s: it is %s, the case needs %s)", key,
				  err == EINVAL ? "does not take the case's value" : "is read-only",
				  target_label(rs->options->target), errno_name(err), current, wanted);
	return 0;
}

/* `sysctl K=V = ERRNO`: the stack must refuse the write, with that errno. 0 when it did; -1 with
 * result's verdict and message set otherwise: a FAIL when it took the value or refused it otherwise, a
 * SKIP when it has no such key or the agent lacks the privilege, an ERROR when the agent broke. */
static int expect_sysctl_refused(struct run_state *rs, const struct sysctl_setting *s, struct case_result *result)
{
	char *why = NULL;
	int rc = agent_sysctl_set(rs->agent, s->key, s->value, &why);
	int err = rc == 0 ? 0 : rs->agent->last_err;
	const char *wanted = errno_name(s->refused_with);
	if (rc < 0 && err == s->refused_with) {
		free(why);
		return 0;
	}
	if (rc == 0 || is_refusal(err)) {
		result->verdict = VERDICT_FAIL;
		result->message = rc == 0 ? message("sysctl %s=%s: the stack took the value; the case says it refuses it "
						    "with %s", s->key, s->value, wanted)
					  : message("sysctl %s=%s: the stack refused it with %s; the case says %s", s->key,
						    s->value, errno_name(err), wanted);
	} else if (err == ENOENT) {
		result->verdict = VERDICT_SKIP;
		result->message = message("the stack under test (%s) has no sysctl %s", target_label(rs->options->target),
					  s->key);
	} else {
		if (err == EPERM)
			result->verdict = VERDICT_SKIP; /* the agent's privilege, as in apply_sysctls */
		result->message = message("sysctl %s=%s: %s", s->key, s->value, why ? why : "?");
	}
	free(why);
	return -1;
}

/* Sets the case's and the variant's sysctls. 0; or -1 with result's verdict and message set: a SKIP
 * where the stack lacks a key or will not take a value or the agent lacks the privilege to set it, an
 * ERROR when the agent broke. */
static int apply_sysctls(struct run_state *rs, struct case_result *result)
{
	struct sysctl_setting sysctls[CASE_MAX_CASE_SYSCTLS + CASE_MAX_SYSCTLS];
	int count = collect_sysctls(rs->c, rs->variant, sysctls);
	for (int i = 0; i < count; i++) {
		const char *key = sysctls[i].key, *wanted = sysctls[i].value;
		char *why = NULL, *reason = NULL, *error = NULL;
		if (sysctls[i].refused_with) {
			if (expect_sysctl_refused(rs, &sysctls[i], result) < 0)
				return -1;
			continue;
		}
		if (agent_sysctl_set(rs->agent, key, wanted, &why) == 0)
			continue;
		int err = rs->agent->last_err;
		/* A sourced file's sysctl fails as the shell lets it (a .pkt's defaults.sh): whatever the
		 * stack answered, EPERM included (tcp_congestion_control outside the allowed list in a
		 * namespace, tcp_set_default_congestion_control). A broken agent answers no errno. */
		if ((err == ENOENT && sysctls[i].where_present) || (err != 0 && sysctls[i].best_effort)) {
			free(why);
			continue;
		}
		int rc = sysctl_refusal(rs, key, wanted, err, &reason, &error);
		if (rc < 0) {
			/* The agent lacks a privilege (an unprivileged lab agent): nothing about the stack. */
			if (err == EPERM)
				result->verdict = VERDICT_SKIP;
			result->message = message("sysctl %s=%s: %s", key, wanted, error ? error : why ? why : "?");
		} else if (reason) {
			result->verdict = VERDICT_SKIP;
			result->message = reason;
		}
		free(why);
		free(error);
		if (rc < 0 || reason)
			return -1;
	}
	return 0;
}

/* The Fast Open cookie the stack gives each peer, from the key it holds now (a script's sysctl has
 * set it, or the namespace made one): a SKIP where the stack has no such key. */
static int learn_stack_cookies(struct run_state *rs, struct case_result *result)
{
	char key[SYSCTL_VALUE_MAX];
	char *error = NULL;
	if (agent_sysctl_get(rs->agent, "net.ipv4.tcp_fastopen_key", key, sizeof key, &error) < 0) {
		result->verdict = rs->agent->last_err == ENOENT ? VERDICT_SKIP : VERDICT_ERROR;
		result->message = message("TFO_COOKIE: reading net.ipv4.tcp_fastopen_key: %s", error ? error : "?");
		free(error);
		return -1;
	}
	for (int i = 0; i < rs->c->peer_count; i++) {
		struct peer_state *p = &rs->peers[i];
		if (tcp_fastopen_server_cookie(key, &p->address, &rs->target_address, p->stack_cookie) < 0) {
			result->verdict = VERDICT_ERROR;
			result->message = message("TFO_COOKIE: net.ipv4.tcp_fastopen_key reads '%s'", key);
			return -1;
		}
		p->stack_cookie_known = true;
	}
	return 0;
}

/* Counters are compared with their values at the start, read only for the names lines check. */
static int read_baselines(struct run_state *rs, char **error)
{
	for (int i = 0; i < rs->c->step_count; i++) {
		const struct step *step = &rs->c->steps[i];
		if (step->kind != STEP_EXPECT_COUNTER || baseline_of(rs, step->u.counter.name))
			continue;
		if (rs->baseline_count == CASE_MAX_COUNTERS)
			return error_set(error, "more than %d different counters", CASE_MAX_COUNTERS);
		struct counter_baseline *b = &rs->baselines[rs->baseline_count++];
		b->name = step->u.counter.name;
		int found = agent_counter(rs->agent, b->name, &b->value, error);
		if (found < 0)
			return -1;
		b->exists = found == 1;
	}
	return 0;
}

static int setup(struct run_state *rs, struct case_result *result)
{
	const struct case_file *c = rs->c;
	char *error = NULL;
	if (c->unsupported_count > 0) {
		const struct unsupported_construct *first = &c->unsupported[0];
		result->verdict = VERDICT_SKIP;
		result->message = message("%s:%d:%d: %s%s", c->path, first->where.line, first->where.col, first->what,
					  c->unsupported_count > 1 ? " (and more: tcpharness check lists them)" : "");
		return -1;
	}
	if (!target_runs_family(rs->options->target, rs->family)) {
		result->verdict = VERDICT_SKIP;
		result->message = message("%s does not run the %s family (a lab host runs those of its --target-ip: "
					  "ipv4 and mapped at an IPv4 address, ipv6 at an IPv6 one)",
					  target_label(rs->options->target), family_name(rs->family));
		return -1;
	}
	if (target_case_begin(rs->options->target, c, rs->family, &rs->target, &error) < 0) {
		result->verdict = is_privilege_error(error) ? VERDICT_SKIP : VERDICT_ERROR;
		result->message = message("%s%s", error ? error : "?",
					  is_privilege_error(error) ? " (run as root or under unshare -Urn)" : "");
		free(error);
		rs->target_begun = true;
		return -1;
	}
	rs->target_begun = true;
	rs->agent = rs->target.agent;
	cpu_wait_watch_vcpu(rs->target.vcpu_schedstat);
	if (rs->target.target_ip != c->target_ip) {
		rs->retargeted = *c;
		rs->retargeted.target_ip = rs->target.target_ip;
		rs->c = c = &rs->retargeted;
	}
	rs->target_address = family_address(rs->family, c->target_ip);
	char *reason = NULL;
	if (missing_requirement(rs, &reason) < 0) {
		result->message = reason;
		return -1;
	}
	if (reason) {
		result->verdict = VERDICT_SKIP;
		result->message = reason;
		return -1;
	}
	if (apply_sysctls(rs, result) < 0)
		return -1;
	if (rs->options->captures_dir) {
		rs->capture = create_capture(c, rs->variant, rs->options->name_families ? (int)rs->family : -1,
					     rs->options->captures_dir, rs->options->capture_format,
					     &result->pcap_path, &error);
		rs->first_frame = malloc((size_t)(c->step_count + 1) * sizeof *rs->first_frame);
		if (!rs->capture || !rs->first_frame) {
			result->message = message("no capture: %s", error ? error : "out of memory");
			free(error);
			return -1;
		}
		for (int i = 0; i < c->step_count; i++)
			rs->first_frame[i] = -1;
	}
	/* The worker's wire, unless a storm of the case needs a bigger ring than it has: then a wire of the
	 * case's own, on its harness end. */
	uint32_t ring_frames = ring_frames_for(c);
	if (rs->target.wire && wire_ring_frames(rs->target.wire) >= ring_frames) {
		rs->wire = rs->target.wire;
		if (wire_begin_case(rs->wire, rs->target.target_mac, rs->capture != NULL, &error) < 0)
			goto failed;
	} else {
		rs->wire = rs->own_wire = wire_open(rs->target.harness_netns_fd, rs->target.ifname, rs->target.harness_mac,
						    rs->target.target_mac, rs->capture != NULL, ring_frames, &error);
		if (!rs->wire)
			goto failed;
	}
	if (rs->target.shared_link && wire_restrict(rs->wire, &rs->target_address, &error) < 0)
		goto failed;
	if (read_baselines(rs, &error) < 0)
		goto failed;
	for (int i = 0; i < c->peer_count; i++) {
		peer_init(&rs->peers[i], &c->peers[i], rs->family);
		rs->peers[i].all = rs->peers;
	}
	if (c->uses_stack_cookie && learn_stack_cookies(rs, result) < 0)
		return -1;
	return 0;
failed:
	result->message = error;
	return -1;
}

/* Writes the case's capture now that the case is over: every frame the wire recorded, with the story
 * the run knows (capture_story.h). A capture that could not be written makes a PASS an ERROR. */
static void write_capture(struct run_state *rs, struct case_result *result)
{
	if (!rs->capture)
		return;
	FILE *out = rs->capture;
	rs->capture = NULL;
	struct wire_recorded_frame *frames = NULL;
	int count = 0;
	char *error = NULL;
	if (rs->wire && wire_recording(rs->wire, &frames, &count, &error) < 0) {
		fclose(out);
	} else {
		struct capture_story story = { rs->c, rs->variant, rs->family, target_label(rs->options->target),
					       result, rs->events, rs->event_count, rs->first_frame };
		capture_story_write(out, rs->options->capture_format, &story, frames, count, &error);
	}
	if (error && result->verdict == VERDICT_PASS) {
		result->verdict = VERDICT_ERROR;
		result->message = message("harness error: the capture %s was not written: %s", result->pcap_path, error);
	}
	free(error);
	free(frames);
}

/* How long the teardown listens for what closing the application's sockets makes the stack send: until
 * this long passes without a frame, and no longer than TEARDOWN_MAX_NS. A sandbox's stack sends within
 * close() itself; a VM's comes a little later. */
#define TEARDOWN_QUIET_NS (5 * 1000000LL)
#define TEARDOWN_MAX_NS (50 * 1000000LL)

/* Closes every socket the case's app lines may have opened, oldest first. Returns how many were still
 * open; a handle the case closed itself, or never opened in this variant, is refused and not counted. */
static int close_app_sockets(struct run_state *rs)
{
	int closed = 0;
	const struct step *steps = rs->c->steps;
	for (int i = 0; i < rs->c->step_count; i++) {
		bool first = steps[i].kind == STEP_APP && steps[i].u.app.handle[0];
		for (int j = 0; first && j < i; j++)
			first = steps[j].kind != STEP_APP || strcmp(steps[j].u.app.handle, steps[i].u.app.handle);
		if (!first)
			continue;
		struct app_call closing = { .op = APP_CLOSE };
		snprintf(closing.handle, sizeof closing.handle, "%s", steps[i].u.app.handle);
		struct agent_reply reply;
		char *error = NULL;
		if (agent_call(rs->agent, &closing, &reply, &error) < 0) {
			free(error);
			return closed;
		}
		closed += reply.err == 0;
	}
	return closed;
}

/* After the last line, while the wire still records: the application's sockets are closed, and every
 * segment the stack sends then (the FIN of a connection left open, the RST of one the listener never
 * handed out) becomes a RUN_EVENT_TEARDOWN, never judged. Frames captured before the closing are not
 * the teardown's. Best effort: a capture or agent error here only ends the listening. */
static void record_teardown(struct run_state *rs)
{
	int64_t closing_ns = wire_now_ns();
	if (close_app_sockets(rs) == 0)
		return;
	int64_t give_up = wire_now_ns() + TEARDOWN_MAX_NS, quiet_until = wire_now_ns() + TEARDOWN_QUIET_NS;
	for (;;) {
		struct wire_frame frame;
		char *error = NULL;
		int rc = wire_next(rs->wire, quiet_until < give_up ? quiet_until : give_up, &frame, &error);
		free(error);
		if (rc <= 0)
			return;
		quiet_until = wire_now_ns() + TEARDOWN_QUIET_NS;
		bool from_stack = frame.decoded && ip_address_equal(&frame.segment.src_ip, &rs->target_address);
		if (frame.at_ns < closing_ns || !(from_stack || frame.icmpv6))
			continue;
		int peer = frame.icmpv6 ? -1 : owning_peer(rs, &frame.segment);
		struct run_event *e = add_event(rs, RUN_EVENT_TEARDOWN, NULL, peer, frame.at_ns);
		e->frame = frame.recorded;
		if (frame.icmpv6)
			snprintf(e->observed, sizeof e->observed, "ICMPv6 type %u code %u", frame.icmpv6_type,
				 frame.icmpv6_code);
		else
			stack_segment_text(rs, &frame.segment, peer, e->observed, sizeof e->observed);
	}
}

static void teardown(struct run_state *rs)
{
	if (rs->capture)
		fclose(rs->capture);
	free(rs->first_frame);
	wire_close(rs->own_wire);
	if (rs->target_begun)
		target_case_end(rs->options->target, &rs->target);
	cpu_wait_watch_vcpu(NULL);
}

/* The outcomes of the `outcome` steps that ran, joined by '/', a repeat of the previous word skipped. */
static void collect_outcome(const struct case_file *c, struct case_result *result)
{
	const char *previous = "";
	size_t used = 0;
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		if (e->step < 0 || !c->steps[e->step].outcome || !e->outcome[0] || !strcmp(e->outcome, previous))
			continue;
		int n = snprintf(result->outcome + used, sizeof result->outcome - used, "%s%s", used ? "/" : "",
				 e->outcome);
		if (n < 0 || (size_t)n >= sizeof result->outcome - used)
			break;
		used += (size_t)n;
		previous = e->outcome;
	}
}

void run_case(const struct case_file *c, int variant, enum address_family family, const struct run_options *options,
	      struct case_result *result)
{
	memset(result, 0, sizeof *result);
	/* Until setup says otherwise: a sandbox, agent or capture that could not be made is the harness's. */
	result->verdict = VERDICT_ERROR;
	result->failed_step = -1;
	struct run_state *rs = calloc(1, sizeof *rs);
	if (!rs) {
		result->message = message("out of memory");
		return;
	}
	rs->c = c;
	rs->variant = variant;
	rs->family = family;
	rs->options = options;
	rs->failed_step = -1;
	int64_t began = wire_now_ns();

	if (setup(rs, result) == 0) {
		/* Before the timeline starts: a process's first snapshot looks for ksoftirqd through /proc, which
		 * takes hundreds of ms on a loaded machine. */
		cpu_wait_snapshot(&rs->line_wait);
		rs->line_dropped = wire_capture_dropped(rs->wire);
		rs->start_ns = rs->previous_ns = wire_now_ns();

		uint32_t bit = variant >= 0 ? 1u << variant : ~0u;
		const char *stack = target_stack(options->target);
		uint32_t release = target_release(options->target);
		int failed = 0;
		for (int i = 0; i < c->step_count && !failed; i++) {
			if (!(c->steps[i].variant_mask & bit) || !step_runs_on(&c->steps[i], stack, release) ||
			    !step_runs_in_family(&c->steps[i], (int)family)) {
				result->steps_run++; /* passed: not for this variant, stack or family */
				continue;
			}
			if (run_interrupted) {
				rs->failure = message("interrupted");
				rs->harness_fault = true;
				failed = 1;
				break;
			}
			rs->previous_line_first_event = rs->line_first_event;
			rs->line_first_event = rs->event_count;
			rs->previous_line_wait = rs->line_wait;
			cpu_wait_snapshot(&rs->line_wait);
			rs->previous_line_dropped = rs->line_dropped;
			rs->line_dropped = wire_capture_dropped(rs->wire);
			int64_t previous_ns = rs->previous_ns;
			bool expects_segment = c->steps[i].kind == STEP_EXPECT_SEGMENT;
			if (rs->first_frame)
				rs->first_frame[i] = wire_recorded_count(rs->wire);
			failed = run_step(rs, &c->steps[i]) < 0;
			if (!expects_segment && rs->previous_ns != previous_ns)
				rs->previous_captured = false;
			result->steps_run++;
		}
		if (!failed)
			failed = finish_blocking_call(rs) < 0;
		if (rs->blocking_step) {
			/* A line failed while a call blocked: its reply is collected, not judged, so that the
			 * agent answers what comes next. */
			struct agent_reply ignored;
			char *error = NULL;
			rs->blocking_step = NULL;
			if (agent_call_finish(rs->agent, &rs->blocking, &ignored, &error) < 0)
				free(error);
		}
		/* A signal during the last step cuts its wait short: that step proved nothing. */
		if (!failed && run_interrupted) {
			rs->failure = message("interrupted");
			rs->harness_fault = true;
			failed = 1;
		}
		if (!failed)
			failed = check_nothing_unexpected(rs, NULL, "after the last line") < 0;
		result->verdict = !failed ? VERDICT_PASS : rs->harness_fault ? VERDICT_ERROR : VERDICT_FAIL;
		result->message = rs->failure;
		result->failed_step = rs->failed_step;
		result->unchecked = rs->unchecked;
		result->unchecked_reason = rs->unchecked_reason;
		/* After a harness error the agent or the capture may be what broke: nothing more is asked of them. */
		if (!run_interrupted && !rs->harness_fault)
			record_teardown(rs);
	}
	write_capture(rs, result);
	teardown(rs);
	result->events = rs->events;
	result->event_count = rs->event_count;
	collect_outcome(c, result);
	free(rs);
	result->duration_ns = wire_now_ns() - began;
}

void case_result_free(struct case_result *r)
{
	free(r->message);
	free(r->pcap_path);
	free(r->events);
	free(r->unchecked_reason);
	r->message = r->pcap_path = r->unchecked_reason = NULL;
	r->events = NULL;
	r->event_count = 0;
}
