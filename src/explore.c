/* explore.c - see explore.h. */
#include "explore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_parser.h"
#include "symbols.h"

/* The options of a SYN (and of a SYN-ACK, with `ecr auto`), as Linux sends them. */
#define SYN_OPTIONS(ecr) "<mss 1460,sackOK,TS val 100000 ecr " ecr ",nop,wscale 7>"
#define TS_OPTIONS "<nop,nop,TS val 100000 ecr auto>"
/* The stack's own SYN and SYN-ACK are matched with their options in any order (`{...}`): the recipe is
 * about the handshake, not the layout, and lwIP lays its options out unlike Linux. */
#define SYN_FROM_STACK "S 0:0(0) {mss 1460,sackOK,TS val * ecr 0,wscale *}"
#define SYN_ACK_FROM_STACK "S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 100000,wscale *}"

/* The stack's own FIN-path states are entered with shutdown(SHUT_WR), not close(): the application
 * keeps the socket, as RFC 9293's state machine assumes. A closed (orphaned) FIN_WAIT2 is a timewait
 * minisock on Linux instead (cases/close/data_after_close.tc). */
const struct explore_state explore_states[] = {
	{ "CLOSED", EXPLORE_SERVER, NULL, "", 0, 0, 0, false },
	{ "LISTEN", EXPLORE_SERVER, NULL, "0     app listen 8080", 0, 0, 0, false },
	{ "SYN_SENT", EXPLORE_CLIENT, NULL,
	  "0     app connect 192.0.2.10:80\n"
	  "+0    c > " SYN_FROM_STACK "\n"
	  "+0    expect state SYN_SENT",
	  0, 0, 1, true },
	{ "SYN_RECV", EXPLORE_SERVER, "LISTEN",
	  "+0    c < S 0:0(0) win 64240 " SYN_OPTIONS("0") "\n"
	  "+0    c > " SYN_ACK_FROM_STACK "\n"
	  "+0    expect state SYN_RECV",
	  1, 0, 1, true },
	/* Simultaneous open: our SYN crosses the stack's (RFC 9293 3.5, figure 8). */
	{ "SYN_RECV", EXPLORE_CLIENT, "SYN_SENT",
	  "+0    c < S 0:0(0) win 64240 " SYN_OPTIONS("0") "\n"
	  "+0    c > " SYN_ACK_FROM_STACK "\n"
	  "+0    expect state SYN_RECV",
	  1, 0, 1, true },
	/* The handshake's answer comes 250 ms late: the stack measures that RTT and its RTO becomes about
	 * three times it, so no retransmission of its FIN lands in a cell even when the harness runs late
	 * under load (the RTO would otherwise be the 200 ms minimum). */
	{ "ESTABLISHED", EXPLORE_SERVER, "SYN_RECV",
	  "+0.25 c < . 1:1(0) ack 1 win 502 " TS_OPTIONS "\n"
	  "+0    app accept\n"
	  "+0    expect state ESTABLISHED",
	  1, 1, 1, true },
	{ "ESTABLISHED", EXPLORE_CLIENT, "SYN_SENT",
	  "+0.25 c < S. 0:0(0) ack 1 win 64240 " SYN_OPTIONS("auto") "\n"
	  "+0    c > . 1:1(0) ack 1 <nop,nop,TS val * ecr 100000>\n"
	  "+0    app connected = 0\n"
	  "+0    expect state ESTABLISHED",
	  1, 1, 1, true },
	{ "FIN_WAIT1", EXPLORE_SERVER | EXPLORE_CLIENT, "ESTABLISHED",
	  "+0    app shutdown wr\n"
	  "+0    c > F. 1:1(0) ack 1 <nop,nop,TS val * ecr 100000>\n"
	  "+0    expect state FIN_WAIT1",
	  1, 1, 2, true },
	{ "FIN_WAIT2", EXPLORE_SERVER | EXPLORE_CLIENT, "FIN_WAIT1",
	  "+0    c < . 1:1(0) ack 2 win 502 " TS_OPTIONS "\n"
	  "+0    expect state FIN_WAIT2",
	  1, 2, 2, true },
	/* Simultaneous close: our FIN crosses the stack's. */
	{ "CLOSING", EXPLORE_SERVER | EXPLORE_CLIENT, "FIN_WAIT1",
	  "+0    c < F. 1:1(0) ack 1 win 502 " TS_OPTIONS "\n"
	  "+0    c > . 2:2(0) ack 2 <nop,nop,TS val * ecr 100000>\n"
	  "+0    expect state CLOSING",
	  2, 1, 2, true },
	{ "TIME_WAIT", EXPLORE_SERVER | EXPLORE_CLIENT, "FIN_WAIT2",
	  "+0    c < F. 1:1(0) ack 2 win 502 " TS_OPTIONS "\n"
	  "+0    c > . 2:2(0) ack 2 <nop,nop,TS val * ecr 100000>\n"
	  "+0    expect state TIME_WAIT",
	  2, 2, 2, true },
	{ "CLOSE_WAIT", EXPLORE_SERVER | EXPLORE_CLIENT, "ESTABLISHED",
	  "+0    c < F. 1:1(0) ack 1 win 502 " TS_OPTIONS "\n"
	  "+0    c > . 1:1(0) ack 2 <nop,nop,TS val * ecr 100000>\n"
	  "+0    expect state CLOSE_WAIT",
	  2, 1, 1, true },
	{ "LAST_ACK", EXPLORE_SERVER | EXPLORE_CLIENT, "CLOSE_WAIT",
	  "+0    app close\n"
	  "+0    c > F. 1:1(0) ack 2 <nop,nop,TS val * ecr 100000>\n"
	  "+0    expect state LAST_ACK",
	  2, 1, 2, true },
};
const int explore_state_count = sizeof explore_states / sizeof explore_states[0];

/* Far outside any window this run opens (64 KiB scaled by 2^7 at most), and still "after" in
 * sequence space (less than 2^31 away). */
#define FAR (1LL << 30)

const struct explore_event explore_events[] = {
	{ "syn-below", "SYN, seq 1000 below RCV.NXT, newer TSval", "S", false, -1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "syn-at", "SYN, seq at RCV.NXT, newer TSval", "S", false, 0, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "syn-above", "SYN, seq 1000 above RCV.NXT, newer TSval", "S", false, 1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "syn-above-ts-equal", "SYN above RCV.NXT, TSval equal to TS.Recent", "S", false, 1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_EQUAL },
	{ "syn-above-ts-older", "SYN above RCV.NXT, TSval older than TS.Recent", "S", false, 1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_OLDER },
	{ "syn-above-no-ts", "SYN above RCV.NXT without timestamps", "S", false, 1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NONE },
	{ "syn-ack", "SYN-ACK: seq the peer's ISN, ack SND.NXT", "S.", true, 0, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "ack-below-una", "ACK 1000 below SND.UNA", ".", false, 0, 0, EXPLORE_ACK_SND_UNA, -1000, EXPLORE_TS_NEWER },
	{ "ack-far-below-una", "ACK 2^30 below SND.UNA (beyond MAX.SND.WND)", ".", false, 0, 0, EXPLORE_ACK_SND_UNA, -FAR, EXPLORE_TS_NEWER },
	{ "ack-at-nxt", "ACK at SND.NXT", ".", false, 0, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "ack-above-nxt", "ACK 1000 above SND.NXT", ".", false, 0, 0, EXPLORE_ACK_SND_NXT, 1000, EXPLORE_TS_NEWER },
	{ "ack-old-ts", "ACK at SND.NXT with an old TSval", ".", false, 0, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_OLDER },
	{ "rst-at-rcv-nxt", "RST at RCV.NXT", "R", false, 0, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "rst-in-window", "RST 1000 above RCV.NXT, in the window", "R", false, 1000, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "rst-out-of-window", "RST 2^30 above RCV.NXT, outside the window", "R", false, FAR, 0, EXPLORE_NO_ACK, 0, EXPLORE_TS_NEWER },
	{ "rst-ack-at-rcv-nxt", "RST|ACK at RCV.NXT, ack SND.NXT", "R.", false, 0, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "fin-in-window", "FIN at RCV.NXT, ack SND.NXT", "F.", false, 0, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "fin-out-of-window", "FIN 2^30 above RCV.NXT", "F.", false, FAR, 0, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "data-in-window", "10 bytes at RCV.NXT, ack SND.NXT", "P.", false, 0, 10, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "data-out-of-window", "10 bytes 2^30 above RCV.NXT", "P.", false, FAR, 10, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NEWER },
	{ "data-old-ts", "10 bytes at RCV.NXT with an old TSval", "P.", false, 0, 10, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_OLDER },
	{ "data-no-ts", "10 bytes at RCV.NXT without timestamps", "P.", false, 0, 10, EXPLORE_ACK_SND_NXT, 0, EXPLORE_TS_NONE },
};
const int explore_event_count = sizeof explore_events / sizeof explore_events[0];

/* The counters the decisions of RFC 9293 3.10, RFC 5961 and RFC 7323 move on Linux. No recipe moves
 * any of them (a handshake and an orderly close count in none), so a cell's delta since the case
 * started is its event's. A stack without one leaves it unseen. */
const char *const explore_counters[] = {
	"PAWSEstab", "PAWSActive", "PAWSTimewait", "PAWSOldAck", "TCPChallengeACK", "TCPSYNChallenge",
	"TCPACKSkippedSeq", "TCPACKSkippedPAWS", "TCPACKSkippedSynRecv", "TCPACKSkippedTimeWait",
	"TCPAbortOnData", "Tcp.OutRsts", "Tcp.EstabResets",
};
const int explore_counter_count = sizeof explore_counters / sizeof explore_counters[0];

const char *explore_role_name(enum explore_role role)
{
	return role == EXPLORE_CLIENT ? "client" : "server";
}

int explore_rows(struct explore_row rows[EXPLORE_MAX_ROWS])
{
	static const enum explore_role roles[] = { EXPLORE_SERVER, EXPLORE_CLIENT };
	int count = 0;
	for (int r = 0; r < 2; r++)
		for (int i = 0; i < explore_state_count && count < EXPLORE_MAX_ROWS; i++)
			if (explore_states[i].role & roles[r])
				rows[count++] = (struct explore_row){ &explore_states[i], roles[r] };
	return count;
}

/* The recipe of a state in a role, its parents' lines first. */
static void print_recipe(FILE *out, const struct explore_state *state, enum explore_role role)
{
	const struct explore_state *parent = NULL;
	for (int i = 0; state->parent && i < explore_state_count; i++)
		if ((explore_states[i].role & role) && !strcmp(explore_states[i].name, state->parent))
			parent = &explore_states[i];
	if (parent)
		print_recipe(out, parent, role);
	if (*state->recipe)
		fprintf(out, "%s\n", state->recipe);
}

static uint32_t ts_value(enum explore_ts ts)
{
	switch (ts) {
	case EXPLORE_TS_NEWER:
		return EXPLORE_TS_RECENT + 1;
	case EXPLORE_TS_OLDER:
		return 50; /* far older: beyond Linux's allowance for a reordered ("disordered") ACK */
	default:
		return EXPLORE_TS_RECENT;
	}
}

/* The event's line, its numbers written in the case's relative notation (mod 2^32). */
static void print_event(FILE *out, const struct explore_state *state, const struct explore_event *event)
{
	uint32_t seq = (uint32_t)((event->seq_from_isn ? 0 : state->rcv_nxt) + event->seq_offset);
	fprintf(out, "+0    c < %s %u:%u(%u)", event->flags, seq, seq + event->length, event->length);
	if (event->ack != EXPLORE_NO_ACK)
		fprintf(out, " ack %u",
			(uint32_t)((event->ack == EXPLORE_ACK_SND_UNA ? state->snd_una : state->snd_nxt) + event->ack_offset));
	bool syn = strchr(event->flags, 'S') != NULL;
	fprintf(out, " win %d", syn ? 64240 : 502);
	/* With no connection the stack has sent no TSval to echo. */
	const char *ecr = state->connection && strchr(event->flags, '.') ? "auto" : "0";
	if (event->ts == EXPLORE_TS_NONE)
		fprintf(out, "%s", syn ? " <mss 1460,sackOK,nop,wscale 7>" : "");
	else if (syn)
		fprintf(out, " <mss 1460,sackOK,TS val %u ecr %s,nop,wscale 7>", ts_value(event->ts), ecr);
	else
		fprintf(out, " <nop,nop,TS val %u ecr %s>", ts_value(event->ts), ecr);
	fprintf(out, "   # the event\n");
}

static char *cell_name(const struct explore_row *row, const struct explore_event *event)
{
	char *name = NULL;
	if (asprintf(&name, "%s-%s/%s", explore_role_name(row->role), row->state->name, event->name) < 0)
		return NULL;
	for (char *p = name; *p && *p != '/'; p++)
		*p = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	return name;
}

#define OBSERVE_MARK "# observe"

/* The header, the peer and the recipe of a cell. */
static void print_cell_start(FILE *out, const struct explore_row *row, const struct explore_event *event)
{
	const struct explore_state *s = row->state;
	fprintf(out, "# explore: %s %s x %s: %s.\n", explore_role_name(row->role), s->name, event->name, event->what);
	fprintf(out, "# The state's numbers: RCV.NXT %u (the peer's, relative), SND.UNA %u, SND.NXT %u (the stack's);\n"
		     "# every recipe segment carries TSval %u (TS.Recent).\n",
		s->rcv_nxt, s->snd_una, s->snd_nxt, EXPLORE_TS_RECENT);
}

static void print_cell_setup(FILE *out, const struct explore_row *row)
{
	fprintf(out, "require option timestamps\n");
	fprintf(out, "tune net.ipv4.tcp_invalid_ratelimit=0\n");
	fprintf(out, row->role == EXPLORE_SERVER ? "peer c 192.0.2.10:40000 to 8080\n\n" : "peer c 192.0.2.10:80\n\n");
	print_recipe(out, row->state, row->role);
}

/* Stacks that answer later than EXPLORE_WINDOW_NS allows: lwIP ACKs in-order data only from its
 * 250 ms fast timer (tcp_in.c tcp_receive sets TF_ACK_DELAY; tcp.c tcp_fasttmr sends it). Each listens
 * this long, still short of the recipe's retransmissions (lwIP's RTO, in 500 ms ticks, is seconds). */
static const struct {
	const char *stack; /* target_stack()'s name */
	int64_t window_ns;
} explore_slow_stacks[] = {
	{ "lwip", 350 * 1000000LL },
};

/* The line that listens for the stack's answers (a `{stack}` line per slow stack and one for the
 * others), over its window divided by divisor; outcome and mark go before and after it. */
static void print_silence(FILE *out, const char *outcome, int divisor, const char *mark)
{
	const int slow = (int)(sizeof explore_slow_stacks / sizeof explore_slow_stacks[0]);
	for (int i = 0; i < slow; i++)
		fprintf(out, "{%s} +0    %sc > none within %lldms%s\n", explore_slow_stacks[i].stack, outcome,
			(long long)(explore_slow_stacks[i].window_ns / divisor / 1000000), mark);
	fprintf(out, "{!");
	for (int i = 0; i < slow; i++)
		fprintf(out, "%s%s", i ? "," : "", explore_slow_stacks[i].stack);
	fprintf(out, "} +0    %sc > none within %lldms%s\n", outcome, (long long)(EXPLORE_WINDOW_NS / divisor / 1000000), mark);
}

static void print_counter_observers(FILE *out)
{
	for (int i = 0; i < explore_counter_count; i++)
		fprintf(out, "+0    expect counter %s +0   " OBSERVE_MARK "\n", explore_counters[i]);
}

char *explore_cell_text(const struct explore_row *row, const struct explore_event *event, bool observing,
			char **name_out)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return NULL;
	print_cell_start(out, row, event);
	print_cell_setup(out, row);
	print_event(out, row->state, event);
	if (observing) {
		print_silence(out, "", 1, "   " OBSERVE_MARK);
		fprintf(out, "+0    c expect state NONE   " OBSERVE_MARK "\n");
		print_counter_observers(out);
	}
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	if (name_out && !(*name_out = cell_name(row, event))) {
		free(text);
		return NULL;
	}
	return text;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

int explore_cell_case(const char *path, const char *text, struct case_file *out, char **error)
{
	if (case_parse_text(path, text, strlen(text), out, error) < 0)
		return -1;
	for (int i = 0; i < out->step_count; i++)
		out->steps[i].observe = ends_with(out->lines[out->steps[i].line_index], OBSERVE_MARK);
	return 0;
}

/* A relative sequence number no cell's numbers reach: the stack's segment carries a number of no
 * connection (a RST answering a segment without ACK has seq 0, which reads relative to the stack's
 * random ISN). The cells' numbers lie within 2^20 of 0 or of +-2^30 (FAR); a random ISN lands there
 * once in about 700 runs. */
static bool unrelated_seq(const char *range)
{
	uint32_t start = (uint32_t)strtoul(range, NULL, 10);
	static const uint32_t anchors[] = { 0, 1u << 30, (uint32_t)-(1u << 30) };
	for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
		uint32_t distance = start - anchors[i];
		if (distance < (1u << 20) || -distance < (1u << 20))
			return false;
	}
	return true;
}

/* An observed segment without what changes from run to run: the stack's TSval, its window, and a
 * sequence range of no connection (`*:*(LEN)`). */
static void portable_segment(const char *observed, char *out, size_t size)
{
	char copy[RUN_EVENT_TEXT];
	snprintf(copy, sizeof copy, "%s", observed);
	size_t used = 0;
	out[0] = '\0';
	char *save = NULL;
	bool skip_next = false, mask_next = false;
	for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		const char *shown = word;
		if (skip_next) {
			skip_next = false;
			continue;
		}
		if (!strcmp(word, "win")) {
			skip_next = true;
			continue;
		}
		if (!strcmp(word, "<>"))
			continue;
		char unknown[32];
		if (used && !strchr(out, ' ') && unrelated_seq(word)) {
			snprintf(unknown, sizeof unknown, "*:*%s", strchr(word, '(') ? strchr(word, '(') : "(0)");
			shown = unknown;
		}
		if (mask_next)
			shown = "*";
		mask_next = !strcmp(word, "val");
		int n = snprintf(out + used, size - used, "%s%s", used ? " " : "", shown);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
}

static void append_word(char *buf, size_t size, const char *word)
{
	size_t used = strlen(buf);
	snprintf(buf + used, size - used, "%s%s", used ? "+" : "", word);
}

void explore_observe(const struct case_file *c, const struct case_result *result, struct explore_observation *out)
{
	memset(out, 0, sizeof *out);
	int event_step = -1;
	for (int i = 0; i < c->step_count; i++)
		if (c->steps[i].kind == STEP_INJECT)
			event_step = i;
	if (result->verdict == VERDICT_SKIP || (result->verdict == VERDICT_FAIL && result->failed_step >= 0) ||
	    result->steps_run < c->step_count) {
		bool recipe_answered_otherwise = result->verdict == VERDICT_FAIL && result->failed_step >= 0 &&
						 result->failed_step < event_step;
		out->status = result->verdict == VERDICT_SKIP ? EXPLORE_SKIPPED
			      : recipe_answered_otherwise     ? EXPLORE_UNREACHED
							      : EXPLORE_RECIPE_FAILED;
		const char *message = result->message ? result->message : "?";
		snprintf(out->why, sizeof out->why, "%.*s", (int)strcspn(message, "\n"), message);
		return;
	}
	out->status = EXPLORE_OBSERVED;
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		if (e->step < 0 || !c->steps[e->step].observe || e->unchecked)
			continue;
		const struct step *step = &c->steps[e->step];
		if (e->kind == RUN_EVENT_SEGMENT && out->reply_count < EXPLORE_MAX_REPLIES) {
			portable_segment(e->observed, out->replies[out->reply_count++], sizeof out->replies[0]);
			append_word(out->reply, sizeof out->reply, e->outcome);
		} else if (e->kind == RUN_EVENT_STATE) {
			snprintf(out->state_after, sizeof out->state_after, "%s", e->outcome);
		} else if (e->kind == RUN_EVENT_COUNTER && e->step > event_step) {
			const char *value = strrchr(e->observed, ' ');
			int64_t delta = value ? strtoll(value + 1, NULL, 10) : 0;
			if (delta != 0 && out->moved_count < EXPLORE_MAX_MOVED) {
				snprintf(out->moved[out->moved_count].name, sizeof out->moved[0].name, "%s", step->u.counter.name);
				out->moved[out->moved_count++].delta = delta;
			}
		}
	}
	if (!out->reply[0])
		snprintf(out->reply, sizeof out->reply, "DROP");
	if (!out->state_after[0])
		snprintf(out->state_after, sizeof out->state_after, "UNSEEN");
}

char *explore_emit_text(const struct explore_row *row, const struct explore_event *event,
			const struct explore_observation *o, const char *target_label, const char *rfc_note)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	if (!out)
		return NULL;
	print_cell_start(out, row, event);
	fprintf(out, "# Observed on %s: %s, then %s.\n", target_label, o->reply, o->state_after);
	fprintf(out, "# Why: %s\n# Kernel: (cite the function that decides it)\n", rfc_note ? rfc_note : "(cite the RFC section)");
	print_cell_setup(out, row);
	print_event(out, row->state, event);
	for (int i = 0; i < o->reply_count; i++)
		fprintf(out, "+0    %sc > %s\n", i == 0 ? "outcome " : "", o->replies[i]);
	if (o->reply_count)
		print_silence(out, "", 2, "");
	else
		print_silence(out, "outcome ", 1, "");
	if (strcmp(o->state_after, "UNSEEN") != 0)
		fprintf(out, "+0    outcome c expect state %s\n", o->state_after);
	for (int i = 0; i < o->moved_count; i++)
		fprintf(out, "+0    expect counter %s %+lld\n", o->moved[i].name, (long long)o->moved[i].delta);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
