/* explore_rfc.c - see explore_rfc.h. RFC 9293 section 3.10.7 ("SEGMENT ARRIVES") step by step, in
 * its order; each return names the step that decided. */
#include "explore_rfc.h"

#include <stdbool.h>
#include <string.h>

/* RCV.WND at the event: every explored state has advertised about 64 KiB; the events are either well
 * inside it (1000) or far outside (2^30). */
#define RCV_WND 65535

/* What the RFC steps need to know of an event, in the state's terms. */
struct arrival {
	bool syn, ack, rst, fin, ts;
	bool ts_older;         /* SEG.TSval < TS.Recent */
	bool ts_newer;         /* SEG.TSval > TS.Recent */
	int64_t seq;           /* SEG.SEQ - RCV.NXT */
	int64_t len;           /* SEG.LEN: data, SYN and FIN count */
	int64_t ack_minus_una; /* SEG.ACK - SND.UNA */
	int64_t ack_minus_nxt; /* SEG.ACK - SND.NXT */
};

static struct arrival arrival_of(const struct explore_state *s, const struct explore_event *e)
{
	struct arrival a = { 0 };
	a.syn = strchr(e->flags, 'S') != NULL;
	a.ack = strchr(e->flags, '.') != NULL;
	a.rst = strchr(e->flags, 'R') != NULL;
	a.fin = strchr(e->flags, 'F') != NULL;
	a.ts = e->ts != EXPLORE_TS_NONE;
	a.ts_older = e->ts == EXPLORE_TS_OLDER;
	a.ts_newer = e->ts == EXPLORE_TS_NEWER;
	a.seq = e->seq_from_isn ? -(int64_t)s->rcv_nxt + e->seq_offset : e->seq_offset;
	a.len = e->length + a.syn + a.fin;
	int64_t ack = (e->ack == EXPLORE_ACK_SND_UNA ? s->snd_una : s->snd_nxt) + e->ack_offset;
	a.ack_minus_una = ack - s->snd_una;
	a.ack_minus_nxt = ack - s->snd_nxt;
	return a;
}

static bool in_window(int64_t offset)
{
	return offset >= 0 && offset < RCV_WND;
}

/* 3.10.7.4 first check, the segment acceptability test. */
static bool acceptable(const struct arrival *a)
{
	if (a->len == 0)
		return in_window(a->seq);
	return in_window(a->seq) || in_window(a->seq + a->len - 1);
}

static struct explore_rfc_answer answer(const char *reply, const char *state, const char *section)
{
	return (struct explore_rfc_answer){ reply, state, section };
}

static struct explore_rfc_answer closed(const struct arrival *a)
{
	return answer(a->rst ? "DROP" : "RST", "NONE", "RFC 9293 3.10.7.1 (CLOSED)");
}

static struct explore_rfc_answer listen_state(const struct arrival *a)
{
	if (a->rst)
		return answer("DROP", "NONE", "RFC 9293 3.10.7.2 (LISTEN), first: an RST is ignored");
	else if (a->ack)
		return answer("RST", "NONE", "RFC 9293 3.10.7.2 (LISTEN), second: any ACK is reset");
	else if (a->syn)
		return answer("ACCEPT", "SYN_RECV", "RFC 9293 3.10.7.2 (LISTEN), third: a SYN opens SYN-RECEIVED");
	else
		return answer("DROP", "NONE", "RFC 9293 3.10.7.2 (LISTEN), fourth");
}

static struct explore_rfc_answer syn_sent(const struct arrival *a)
{
	/* ISS is SND.UNA here; an ACK is acceptable when SND.UNA < SEG.ACK =< SND.NXT. */
	bool ack_ok = a->ack && a->ack_minus_una > 0 && a->ack_minus_nxt <= 0;
	if (a->ack && !ack_ok)
		return answer(a->rst ? "DROP" : "RST", "SYN_SENT",
		       "RFC 9293 3.10.7.3 (SYN-SENT), first: an unacceptable ACK is reset <SEQ=SEG.ACK>");
	else if (a->rst)
		return answer("DROP", ack_ok ? "NONE" : "SYN_SENT",
		       "RFC 9293 3.10.7.3 (SYN-SENT), second: an RST counts only with an acceptable ACK (RFC 5961 3.2)");
	else if (a->syn && ack_ok)
		return answer("ACK", "ESTABLISHED", "RFC 9293 3.10.7.3 (SYN-SENT), fourth: SYN-ACK, ESTABLISHED");
	else if (a->syn)
		return answer("ACCEPT", "SYN_RECV", "RFC 9293 3.10.7.3 (SYN-SENT), fourth: simultaneous open, SYN-RECEIVED");
	else
		return answer("DROP", "SYN_SENT", "RFC 9293 3.10.7.3 (SYN-SENT), fifth: neither SYN nor RST");
}

/* RFC 6191 section 2 (RFC 9293 3.10.7.4 fourth defers to it): a SYN reopens a TIME-WAIT connection
 * that used timestamps when its TSval is newer than TS.Recent, or, without timestamps, when its
 * sequence number is above RCV.NXT; otherwise it is silently dropped. */
static struct explore_rfc_answer time_wait_syn(const struct arrival *a)
{
	bool reopens = a->ts ? a->ts_newer : a->seq > 0;
	return answer(reopens ? "ACCEPT" : "DROP", reopens ? "SYN_RECV" : "TIME_WAIT",
	       "RFC 6191 2 (TIME-WAIT SYN, via RFC 9293 3.10.7.4 fourth)");
}

static struct explore_rfc_answer synchronized(const char *state, enum explore_role role, const struct arrival *a)
{
	bool syn_recv = !strcmp(state, "SYN_RECV");
	if (a->syn && !a->ack && !strcmp(state, "TIME_WAIT"))
		return time_wait_syn(a);
	if (a->ts_older && !a->rst)
		return answer("ACK", state, "RFC 7323 5.3 R1 (PAWS): TSval < TS.Recent is unacceptable, ACK and drop");
	if (!a->ts && !a->rst)
		return answer("DROP", state, "RFC 7323 3.2: a non-RST segment without TSopt SHOULD be dropped");
	if (!acceptable(a))
		return answer(a->rst ? "DROP" : "ACK", state,
			      "RFC 9293 3.10.7.4 first: an unacceptable segment gets an ACK (an RST is dropped)");
	if (a->rst) {
		if (a->seq != 0)
			return answer("ACK", state, "RFC 9293 3.10.7.4 second (RFC 5961 3.2): challenge ACK");
		return answer("DROP", "NONE", "RFC 9293 3.10.7.4 second: RST at RCV.NXT resets");
	}
	if (a->syn) {
		if (syn_recv && role == EXPLORE_SERVER)
			return answer("DROP", "NONE",
				      "RFC 9293 3.10.7.4 fourth: SYN-RECEIVED from a passive OPEN returns to LISTEN");
		return answer("ACK", state, "RFC 9293 3.10.7.4 fourth (RFC 5961 4.2): challenge ACK for any SYN");
	}
	if (!a->ack)
		return answer("DROP", state, "RFC 9293 3.10.7.4 fifth: no ACK bit, drop");
	if (syn_recv) {
		if (a->ack_minus_una <= 0 || a->ack_minus_nxt > 0)
			return answer("RST", state, "RFC 9293 3.10.7.4 fifth (SYN-RECEIVED): unacceptable ACK, <SEQ=SEG.ACK><CTL=RST>");
		state = "ESTABLISHED";
	} else if (a->ack_minus_nxt > 0) {
		return answer("ACK", state, "RFC 9293 3.10.7.4 fifth: ACK of unsent data, ACK and drop");
	} else if (a->ack_minus_una < -RCV_WND) {
		return answer("ACK", state, "RFC 5961 5.2: SEG.ACK below SND.UNA - MAX.SND.WND, ACK and drop");
	}
	bool acks_all = a->ack_minus_nxt == 0 && a->ack_minus_una > 0;
	if (!strcmp(state, "FIN_WAIT1") && acks_all)
		state = "FIN_WAIT2";
	else if (!strcmp(state, "CLOSING") && acks_all)
		state = "TIME_WAIT";
	else if (!strcmp(state, "LAST_ACK") && acks_all)
		return answer("DROP", "NONE", "RFC 9293 3.10.7.4 fifth (LAST-ACK): our FIN acknowledged, CLOSED");
	bool takes_text = !strcmp(state, "ESTABLISHED") || !strcmp(state, "FIN_WAIT1") || !strcmp(state, "FIN_WAIT2");
	if (a->fin) {
		if (!strcmp(state, "ESTABLISHED"))
			state = "CLOSE_WAIT";
		else if (!strcmp(state, "FIN_WAIT1"))
			state = "CLOSING";
		else if (!strcmp(state, "FIN_WAIT2"))
			state = "TIME_WAIT";
		return answer("ACK", state, "RFC 9293 3.10.7.4 eighth: a FIN is acknowledged");
	}
	if (a->len > 0 && takes_text)
		return answer("ACK", state, "RFC 9293 3.10.7.4 seventh: text is acknowledged");
	if (a->len > 0)
		return answer("DROP", state, "RFC 9293 3.10.7.4 seventh: text after the peer's FIN is ignored");
	return answer("DROP", state, "RFC 9293 3.10.7.4 fifth: an acceptable ACK needs no answer");
}

void explore_rfc_expect(const struct explore_row *row, const struct explore_event *event,
			struct explore_rfc_answer *out)
{
	struct arrival a = arrival_of(row->state, event);
	const char *state = row->state->name;
	if (!strcmp(state, "CLOSED"))
		*out = closed(&a);
	else if (!strcmp(state, "LISTEN"))
		*out = listen_state(&a);
	else if (!strcmp(state, "SYN_SENT"))
		*out = syn_sent(&a);
	else
		*out = synchronized(state, row->role, &a);
}
