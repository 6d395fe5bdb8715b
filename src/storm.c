/* storm.c - see storm.h. */
#include "storm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_text.h"
#include "judge.h"
#include "peer.h"
#include "segment_format.h"
#include "symbols.h"

/* The whole receive path on a sandbox's veth runs inside our sendmmsg (and the agent's close), so every
 * frame a chunk causes is in the wire's capture ring before we read any of them: a chunk puts at most
 * two frames per connection there (ours and the stack's answer), and half as many again stay free for
 * retransmissions landing meanwhile (a VM's answers come late, beside its retransmissions). A chunk
 * is at most what one sendmmsg of the wire's sends (WIRE_BATCH_CHUNK). */
#define STORM_CHUNK_MAX 64
#define RING_FRAMES_PER_CONNECTION 3
/* How long a chunk waits for the stack's answers (and the agent for connections to accept). */
#define STORM_WAIT_MS (int)(STORM_WAIT_NS / 1000000)
/* Phase 3 asks the agent for connections this long at a time, reading the capture in between. */
#define ACCEPT_SLICE_MS 100
/* A Linux peer's SYN without timestamps, window scaling or SACK: the smallest realistic one. */
#define STORM_WINDOW 64240
#define STORM_MSS 1460

struct conn {
	uint32_t stack_isn; /* known from CONN_SYN_ACKED on */
	uint8_t step;       /* enum storm_conn_step */
};

/* PHASE_QUIET: after the last final ACK, when nothing more may come. */
enum phase { PHASE_SYN, PHASE_ACK, PHASE_CLOSE, PHASE_FIN, PHASE_QUIET, PHASE_COUNT };

static const char *const phase_names[PHASE_COUNT] = {
	"phase 1 (our SYN, the stack's SYN-ACK)",
	"phase 2 (our ACK completing the handshake)",
	"phase 3 (the application closes, the stack's FIN)",
	"phase 4 (our FIN-ACK, the stack's final ACK)",
	"after phase 4",
};

/* What the stack must send, in a case line's numbers: seq from its ISN, ack from ours. Window and
 * options are the handshake cases' business; a storm checks the numbers that make the lifecycle. */
static const struct segment_spec expect_syn_ack = { .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
						    .seq = { SPEC_VALUE, 0 }, .ack = { SPEC_VALUE, 1 } };
static const struct segment_spec expect_fin = { .flags = TCP_FLAG_FIN | TCP_FLAG_ACK, .seq = { SPEC_VALUE, 1 },
						.ack = { SPEC_VALUE, 1 } };
static const struct segment_spec expect_final_ack = { .flags = TCP_FLAG_ACK, .seq = { SPEC_VALUE, 2 },
						      .ack = { SPEC_VALUE, 2 } };

struct storm {
	struct wire *wire;
	struct agent *agent;
	const struct storm_plan *plan;
	struct storm_result *out;
	struct conn *conns;
	enum phase phase;
	int64_t start_ns;      /* our first SYN */
	uint32_t awaited;      /* the stack's segments the running chunk still waits for */
	uint32_t own_awaited;  /* our frames of the running chunk not yet read back from the ring */
	uint32_t chunk;        /* connections per chunk (storm_chunk) */
	int64_t last_burst_ns; /* paced storms: when our previous batch went */
	char **error;
};

/* The segment a connection at this step waits for; NULL when the stack owes it nothing. */
static const struct segment_spec *awaited_at(enum storm_conn_step step)
{
	switch (step) {
	case CONN_SYN_SENT: return &expect_syn_ack;
	case CONN_CLOSING: return &expect_fin;
	case CONN_FIN_SENT: return &expect_final_ack;
	default: return NULL;
	}
}

/* What the stack may send again at this step: its SYN-ACK until the FIN, then its FIN until our
 * FIN-ACK reaches it. Pure ACKs are never retransmitted; once in TIME_WAIT nothing is. */
static const struct segment_spec *repeatable_at(enum storm_conn_step step)
{
	if (step >= CONN_SYN_ACKED && step <= CONN_CLOSING)
		return &expect_syn_ack;
	if (step >= CONN_FIN_RECEIVED && step <= CONN_FIN_SENT)
		return &expect_fin;
	return NULL;
}

enum storm_segment_fit storm_segment_fit(enum storm_conn_step step, const struct segment_spec *seen)
{
	const struct segment_spec *again = repeatable_at(step);
	if (again && judge_segment(again, seen).matches)
		return STORM_SEGMENT_AGAIN;
	const struct segment_spec *expected = awaited_at(step);
	if (expected)
		return judge_segment(expected, seen).matches ? STORM_SEGMENT_AWAITED : STORM_SEGMENT_DIFFERS;
	/* A FIN still acking 1 was sent before our FIN reached the stack, so before its final ACK; the
	 * sandbox's veth queues each sender's frames on the sending CPU's backlog (veth_xmit ->
	 * __netif_rx -> enqueue_to_backlog), so a FIN resent from a timer on one CPU can reach the capture
	 * after the final ACK sent from the other. */
	if (step == CONN_DONE && judge_segment(&expect_fin, seen).matches)
		return STORM_SEGMENT_CROSSED;
	return STORM_SEGMENT_UNEXPECTED;
}

/* A segment from the stack in a case line's numbers. Until its SYN-ACK the stack's ISN is unknown;
 * a SYN teaches it, as it does a case's peer. */
static void view_of(const struct storm *s, const struct conn *c, const struct segment *seg, struct segment_spec *out)
{
	struct peer_state p = { .isn = s->plan->isn, .kernel_isn = c->stack_isn,
				.kernel_isn_known = c->step >= CONN_SYN_ACKED, .target_port = s->plan->target_port };
	if (!p.kernel_isn_known)
		peer_learn(&p, seg);
	peer_relative_view(&p, seg, out);
}

static void address_text(const struct ip_address *ip, uint16_t port, char *buf, size_t size)
{
	char text[IP_ADDRESS_TEXT_MAX];
	snprintf(buf, size, ip_address_is_ipv4(ip) ? "%s:%u" : "[%s]:%u", ip_address_format(ip, text), port);
}

/* Fills out->mismatch: the phase, the connection (index < 0: none), what went wrong, detail lines, and
 * the segment on the wire when there is one. Returns 1, storm_run's "the stack broke an expectation". */
static int mismatch(struct storm *s, int64_t index, const struct segment *on_wire, const char *detail,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int mismatch(struct storm *s, int64_t index, const struct segment *on_wire, const char *detail,
		    const char *fmt, ...)
{
	char what[192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	char who[128] = "";
	if (index >= 0) {
		char peer[IP_ADDRESS_TEXT_MAX + 8];
		address_text(&s->plan->peer_ip, (uint16_t)(s->plan->first_port + index), peer, sizeof peer);
		snprintf(who, sizeof who, " connection %lld of %u (%s)", (long long)index, s->plan->count, peer);
	}
	char wire_text[192] = "";
	if (on_wire)
		segment_format_absolute(on_wire, wire_text, sizeof wire_text);
	snprintf(s->out->mismatch, sizeof s->out->mismatch, "%s:%s: %s\n%s%s%s%s", phase_names[s->phase], who, what,
		 detail, on_wire ? "    on the wire: " : "", wire_text, on_wire ? "\n" : "");
	return 1;
}

/* The connection has what it waited for. */
static void advance(struct storm *s, struct conn *c, const struct segment *seg, int64_t at_ns)
{
	switch (c->step) {
	case CONN_SYN_SENT:
		c->stack_isn = seg->seq;
		c->step = CONN_SYN_ACKED;
		break;
	case CONN_CLOSING:
		c->step = CONN_FIN_RECEIVED;
		s->out->closed_by_stack++;
		break;
	default: /* CONN_FIN_SENT */
		c->step = CONN_DONE;
		s->out->time_wait_acked++;
		s->out->elapsed_ns = at_ns - s->start_ns;
		break;
	}
	/* Phase 3 cannot tell which connections the agent closed: a FIN from one it did not (a stack
	 * closing by itself) must not wrap the count, only leave a later chunk short. */
	if (s->awaited > 0)
		s->awaited--;
}

static int ack_again(struct storm *s, uint32_t index);

/* Checks one segment from the stack: it must be the one its connection waits for, or one the stack
 * may send again. 0, or 1 with out->mismatch filled, or -1 (*error: our answer could not be sent). */
static int check_stack_segment(struct storm *s, const struct wire_frame *frame)
{
	const struct storm_plan *p = s->plan;
	const struct segment *seg = &frame->segment;
	/* A port below first_port wraps to an index past count. */
	uint32_t index = (uint32_t)(seg->dst_port - p->first_port);
	if (!ip_address_equal(&seg->dst_ip, &p->peer_ip) || seg->src_port != p->target_port || index >= p->count)
		return mismatch(s, -1, seg, "", "the stack sent a segment to no connection of the storm");
	struct conn *c = &s->conns[index];
	struct segment_spec seen;
	view_of(s, c, seg, &seen);
	char seen_text[256], detail[1024];
	enum storm_segment_fit fit = storm_segment_fit(c->step, &seen);
	switch (fit) {
	case STORM_SEGMENT_AWAITED:
		break;
	case STORM_SEGMENT_AGAIN:
		s->out->retransmissions++;
		/* A SYN-ACK again after our ACK went: the ACK was lost (a slow guest drops frames), and a real
		 * peer answers it with the ACK again (RFC 9293 3.10.7.4), or the handshake never completes. */
		return seen.flags & TCP_FLAG_SYN && c->step >= CONN_ESTABLISHED ? ack_again(s, index) : 0;
	case STORM_SEGMENT_CROSSED:
	case STORM_SEGMENT_UNEXPECTED:
		s->out->crossed = fit == STORM_SEGMENT_CROSSED;
		segment_format_spec(&seen, seen_text, sizeof seen_text, NULL);
		snprintf(detail, sizeof detail, "    expected: nothing\n    observed: %s\n", seen_text);
		return mismatch(s, index, seg, detail, "%s", s->out->crossed ? "the stack's FIN came again after its final ACK"
									   : "the stack sent a segment no phase expects now");
	case STORM_SEGMENT_DIFFERS: {
		const struct segment_spec *expected = awaited_at(c->step);
		struct segment_verdict verdict = judge_segment(expected, &seen);
		judge_format_diff(expected, &seen, &verdict, "    ", detail, sizeof detail);
		return mismatch(s, index, seg, detail, "the stack's segment differs from the expected one");
	}
	}
	advance(s, c, seg, frame->at_ns);
	return 0;
}

/* Our own frames only free their ring slots; the stack's are checked. Frames the decoder could not
 * read are skipped as run.c skips them: the capture filter lets TCP/IPv4 alone through. */
static int take_frame(struct storm *s, const struct wire_frame *frame)
{
	if (!frame->decoded)
		return 0;
	if (ip_address_equal(&frame->segment.src_ip, &s->plan->target_ip))
		return check_stack_segment(s, frame);
	if (ip_address_equal(&frame->segment.src_ip, &s->plan->peer_ip) && s->own_awaited > 0)
		s->own_awaited--;
	return 0;
}

/* After the wait: the first connection of [from, to) still owed a segment, named in the mismatch. */
static int report_missing(struct storm *s, uint32_t from, uint32_t to)
{
	uint32_t i = from;
	while (i < to && !awaited_at(s->conns[i].step))
		i++;
	char expected_text[128] = "", detail[256] = "";
	if (i < to) {
		segment_format_spec(awaited_at(s->conns[i].step), expected_text, sizeof expected_text, NULL);
		snprintf(detail, sizeof detail, "    expected: %s\n    observed: nothing\n", expected_text);
	}
	s->out->missing = true;
	return mismatch(s, i < to ? (int64_t)i : -1, NULL, detail,
			"no segment from the stack within %d ms (%u still missing)", STORM_WAIT_MS, s->awaited);
}

/* Reads the ring until the running chunk has every answer it waits for and our own frames are read
 * back, so the next chunk finds the ring empty. 0, 1 (mismatch) or -1 (*error). */
static int wait_chunk(struct storm *s, uint32_t from, uint32_t to)
{
	int64_t deadline = wire_now_ns() + STORM_WAIT_NS;
	while (s->awaited > 0 || s->own_awaited > 0) {
		struct wire_frame frame;
		int rc = wire_next(s->wire, deadline, &frame, s->error);
		if (rc < 0)
			return -1;
		if (rc == 0 && s->awaited > 0)
			return report_missing(s, from, to);
		if (rc == 0)
			return error_set(s->error, "storm: the capture lost %u of our own frames (its ring overflowed)",
					 s->own_awaited);
		if ((rc = take_frame(s, &frame)) != 0)
			return rc;
	}
	return 0;
}

/* Takes every frame the capture holds now, waiting for none. 0, 1 (mismatch) or -1 (*error). */
static int take_captured(struct storm *s)
{
	struct wire_frame frame;
	int rc;
	while ((rc = wire_next(s->wire, 0, &frame, s->error)) == 1)
		if ((rc = take_frame(s, &frame)) != 0)
			return rc;
	return rc;
}

/* Our segment for connection index in phase (SYN, ACK or FIN-ACK). */
static void build_segment(const struct storm *s, uint32_t index, enum phase phase, struct segment *out)
{
	const struct storm_plan *p = s->plan;
	*out = (struct segment){ .src_ip = p->peer_ip, .dst_ip = p->target_ip,
				 .src_port = (uint16_t)(p->first_port + index), .dst_port = p->target_port,
				 .seq = p->isn + 1, .window = STORM_WINDOW };
	uint32_t stack_isn = s->conns[index].stack_isn;
	switch (phase) {
	case PHASE_SYN:
		out->flags = TCP_FLAG_SYN;
		out->seq = p->isn;
		out->options[0] = (struct tcp_option){ .kind = TCP_OPTION_MSS, .mss = STORM_MSS };
		out->option_count = 1;
		break;
	case PHASE_ACK:
		out->flags = TCP_FLAG_ACK;
		out->ack = stack_isn + 1;
		break;
	default: /* PHASE_FIN: it acknowledges the stack's FIN and carries ours */
		out->flags = TCP_FLAG_FIN | TCP_FLAG_ACK;
		out->ack = stack_isn + 2;
		break;
	}
}

/* A paced storm sends batches of a twelfth of max_pps (at most a chunk), each 10% later than the
 * budget allows: any one second then holds at most max_pps / 1.1 + batch <= max_pps of our segments,
 * also as the capture's stamps (which trail our clock a little) count them. */
#define PACE_MARGIN 1.1

static uint32_t batch_size(const struct storm *s)
{
	uint32_t max_pps = s->plan->max_pps;
	if (max_pps == 0)
		return s->chunk;
	uint32_t n = max_pps / 12;
	return n < 1 ? 1 : n > s->chunk ? s->chunk : n;
}

static void pace(struct storm *s, uint32_t n)
{
	if (s->plan->max_pps == 0 || s->last_burst_ns == 0)
		return;
	int64_t due = s->last_burst_ns + (int64_t)(PACE_MARGIN * 1e9 * n / s->plan->max_pps);
	for (int64_t now = wire_now_ns(); now < due; now = wire_now_ns()) {
		struct timespec wait = { (due - now) / 1000000000, (due - now) % 1000000000 };
		nanosleep(&wait, NULL);
	}
}

/* Our handshake's ACK once more, for connection index, paced like the rest; its frame comes back
 * through the ring like any of ours. 0, or -1 with *error. */
static int ack_again(struct storm *s, uint32_t index)
{
	struct segment ack;
	build_segment(s, index, PHASE_ACK, &ack);
	int64_t sent_ns;
	pace(s, 1);
	if (wire_inject_batch(s->wire, &ack, 1, &sent_ns, s->error) < 0)
		return -1;
	s->last_burst_ns = sent_ns;
	s->out->acks_again++;
	s->own_awaited++;
	return 0;
}

/* Phases 1, 2 and 4: one segment of ours per connection, a chunk per sendmmsg batch. */
static int run_injecting_phase(struct storm *s)
{
	static const enum storm_conn_step after[PHASE_COUNT] = { [PHASE_SYN] = CONN_SYN_SENT,
							   [PHASE_ACK] = CONN_ESTABLISHED,
							   [PHASE_FIN] = CONN_FIN_SENT };
	struct segment batch[STORM_CHUNK_MAX];
	uint32_t count = s->plan->count;
	uint32_t most = batch_size(s);
	for (uint32_t from = 0; from < count;) {
		uint32_t n = count - from < most ? count - from : most;
		for (uint32_t i = 0; i < n; i++)
			build_segment(s, from + i, s->phase, &batch[i]);
		int64_t sent_ns;
		pace(s, n);
		if (wire_inject_batch(s->wire, batch, n, &sent_ns, s->error) < 0)
			return -1;
		s->last_burst_ns = sent_ns;
		if (s->phase == PHASE_SYN && s->start_ns == 0)
			s->start_ns = sent_ns;
		for (uint32_t i = 0; i < n; i++)
			s->conns[from + i].step = (uint8_t)after[s->phase];
		if (s->phase == PHASE_ACK)
			s->out->established += n;
		s->own_awaited = n;
		s->awaited = awaited_at(after[s->phase]) ? n : 0;
		int rc = wait_chunk(s, from, from + n);
		if (rc != 0)
			return rc;
		from += n;
	}
	return 0;
}

/* Phase 3: the agent accepts a chunk and closes each at once; which connections it gets is the
 * accept queue's order, so every established one may send its FIN now. */
static int run_close_phase(struct storm *s)
{
	const struct storm_plan *p = s->plan;
	for (uint32_t i = 0; i < p->count; i++)
		s->conns[i].step = CONN_CLOSING;
	for (uint32_t done = 0; done < p->count;) {
		uint32_t n = p->count - done < s->chunk ? p->count - done : s->chunk;
		int64_t closed = 0;
		/* In slices, reading the capture between them: a connection whose ACK was lost completes
		 * only when the SYN-ACK sent again gets its ACK again (check_stack_segment). */
		for (int64_t deadline = wire_now_ns() + STORM_WAIT_NS; closed < n && wire_now_ns() < deadline;) {
			int64_t more;
			if (agent_accept_close(s->agent, p->listener, n - (uint32_t)closed, ACCEPT_SLICE_MS, &more,
					       s->error) < 0)
				return -1;
			closed += more;
			s->awaited = (uint32_t)more;
			int rc = wait_chunk(s, 0, p->count);
			if (rc == 0)
				rc = take_captured(s);
			if (rc == 0)
				rc = wait_chunk(s, 0, p->count); /* our ACKs sent again, back through the ring */
			if (rc != 0)
				return rc;
		}
		if (closed < n) {
			uint32_t first = 0;
			while (first < p->count && s->conns[first].step != CONN_CLOSING)
				first++;
			return mismatch(s, first < p->count ? (int64_t)first : -1, NULL, "",
					"the application found only %lld of %u connections to accept within %d ms; "
					"this one is among those never queued",
					(long long)closed, n, STORM_WAIT_MS);
		}
		done += n;
	}
	return 0;
}

/* Whatever the stack sent after the last final ACK was read can belong to no phase. */
static int check_quiet(struct storm *s)
{
	return take_captured(s);
}

/* A paced storm (a lab's send budget) runs in waves of whole lifecycles, each short enough to end well
 * inside the stack's retransmission timeouts (its SYN-ACK's 1 s, its FIN's 200 ms at least): a whole
 * phase at that pace would outlast them, and the stack's retransmissions would flood the capture ring.
 * A wave's three segments per connection take at most 150 ms of the budget (plus the pacing margin). */
static uint32_t wave_size(const struct storm_plan *plan)
{
	if (plan->max_pps == 0)
		return plan->count;
	uint32_t n = plan->max_pps / 20;
	return n < 1 ? 1 : n > plan->count ? plan->count : n;
}

static int run_phases(struct storm *s)
{
	int rc = 0;
	for (enum phase phase = PHASE_SYN; phase <= PHASE_FIN && rc == 0; phase++) {
		s->phase = phase;
		rc = phase == PHASE_CLOSE ? run_close_phase(s) : run_injecting_phase(s);
	}
	s->phase = PHASE_QUIET;
	return rc == 0 ? check_quiet(s) : rc;
}

uint32_t storm_ring_frames(uint32_t count)
{
	return (count < STORM_CHUNK_MAX ? count : STORM_CHUNK_MAX) * RING_FRAMES_PER_CONNECTION;
}

uint32_t storm_chunk(uint32_t count, uint32_t ring_frames)
{
	uint32_t n = ring_frames / RING_FRAMES_PER_CONNECTION;
	n = n < count ? n : count;
	n = n < STORM_CHUNK_MAX ? n : STORM_CHUNK_MAX;
	return n < 1 ? 1 : n;
}

int storm_run(struct wire *w, struct agent *agent, const struct storm_plan *plan, struct storm_result *out,
	      char **error)
{
	memset(out, 0, sizeof *out);
	if (plan->count == 0 || plan->first_port == 0 || plan->first_port + (uint64_t)plan->count - 1 > UINT16_MAX)
		return error_set(error, "storm: %u connections from port %u do not fit in the port range 1-65535",
				 plan->count, plan->first_port);
	if (!plan->listener)
		return error_set(error, "storm: no listener handle to accept from");
	struct storm_plan wave = *plan;
	uint32_t most = wave_size(plan);
	struct storm s = { .wire = w, .agent = agent, .plan = &wave, .out = out, .error = error,
			   .chunk = storm_chunk(most, wire_ring_frames(w)) };
	s.conns = calloc(most, sizeof *s.conns);
	if (!s.conns)
		return error_set(error, "storm: no memory for %u connections", most);
	int rc = 0;
	for (uint32_t done = 0; done < plan->count && rc == 0; done += wave.count) {
		wave.first_port = (uint16_t)(plan->first_port + done);
		wave.count = plan->count - done < most ? plan->count - done : most;
		memset(s.conns, 0, most * sizeof *s.conns);
		rc = run_phases(&s);
	}
	free(s.conns);
	return rc;
}

static int raise_sysctl(struct agent *agent, const char *key, uint32_t at_least, char **error)
{
	char value[SYSCTL_VALUE_MAX];
	if (agent_sysctl_get(agent, key, value, sizeof value, error) < 0)
		return -1;
	if (strtoull(value, NULL, 10) >= at_least)
		return 0;
	char wanted[16];
	snprintf(wanted, sizeof wanted, "%u", at_least);
	return agent_sysctl_set(agent, key, wanted, error);
}

int storm_raise_limits(struct agent *agent, uint32_t count, char **error)
{
	/* somaxconn caps the accept queue (128 before Linux 5.4, 4096 since); tcp_max_syn_backlog drops
	 * SYNs early when syncookies are off. */
	if (raise_sysctl(agent, "net.core.somaxconn", count, error) < 0 ||
	    raise_sysctl(agent, "net.ipv4.tcp_max_syn_backlog", count, error) < 0)
		return -1;
	return 0;
}

int storm_listen(struct agent *agent, const char *handle, uint16_t port, uint32_t count, char **error)
{
	if (count > INT32_MAX)
		return error_set(error, "storm: a backlog of %u does not fit listen()", count);
	if (storm_raise_limits(agent, count, error) < 0)
		return -1;
	struct app_call call = { .op = APP_LISTEN, .port = port, .backlog = (int)count };
	if (strlen(handle) >= sizeof call.handle)
		return error_set(error, "storm: handle '%s' is too long", handle);
	strcpy(call.handle, handle);
	struct agent_reply reply;
	if (agent_call(agent, &call, &reply, error) < 0)
		return -1;
	if (reply.err)
		return error_set(error, "storm: listen on port %u: %s", port, errno_name(reply.err));
	return 0;
}
