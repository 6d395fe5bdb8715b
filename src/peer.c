/* peer.c - see peer.h. */
#include "peer.h"

#include <string.h>

#include "segment_format.h"

#define DEFAULT_WINDOW 65535

void peer_init(struct peer_state *p, const struct peer_decl *decl, enum address_family family)
{
	memset(p, 0, sizeof *p);
	p->decl = decl;
	p->address = family_address(family, decl->ip);
	p->isn = decl->isn;
	p->snd_nxt = decl->isn;
	p->target_port = decl->target_port;
	p->port = decl->port;
}

void peer_new_passive_open(struct peer_state *p)
{
	p->port = (uint16_t)(p->port == UINT16_MAX ? p->decl->port : p->port + 1);
	p->snd_nxt = p->isn;
	p->sent_anything = false;
	p->own_tsval_known = false;
	p->kernel_isn_known = false;
	p->kernel_tsval_known = false;
	p->ts_baseline_known = false;
}

uint32_t peer_tsval(const struct peer_state *p, int64_t since_start_ns)
{
	/* Whole ticks elapsed; 128-bit-free: rate <= 1e6 and t <= 3600 s keeps this within int64. */
	int64_t ticks = since_start_ns / 1000 * p->decl->ts_rate_hz / 1000000;
	return (uint32_t)((int64_t)p->decl->ts_start + ticks + p->ts_jump);
}

static uint32_t resolve_ts_val(const struct peer_state *p, struct spec_value v, int64_t since_start_ns)
{
	switch (v.kind) {
	case SPEC_AUTO:
		return peer_tsval(p, since_start_ns);
	case SPEC_RELATIVE:
		return (uint32_t)((int64_t)peer_tsval(p, since_start_ns) + v.value);
	default:
		return (uint32_t)v.value;
	}
}

static int build_option(struct peer_state *p, const struct option_spec *o, int64_t since_start_ns,
			struct tcp_option *out, const char **error)
{
	memset(out, 0, sizeof *out);
	out->kind = o->kind;
	switch (o->kind) {
	case TCP_OPTION_MSS:
		out->mss = (uint16_t)o->v[0].value;
		break;
	case TCP_OPTION_WSCALE:
		out->wscale = (uint8_t)o->v[0].value;
		break;
	case TCP_OPTION_SACK:
		out->sack_block_count = o->sack_block_count;
		for (int i = 0; i < o->sack_block_count; i++) {
			/* SACK blocks name the stack's sequence space, like ack. */
			uint32_t base = p->kernel_isn_known ? p->kernel_isn : 0;
			out->sack_left[i] = base + (uint32_t)o->v[2 * i].value;
			out->sack_right[i] = base + (uint32_t)o->v[2 * i + 1].value;
		}
		break;
	case TCP_OPTION_TIMESTAMP:
		out->ts_val = resolve_ts_val(p, o->v[0], since_start_ns);
		if (o->v[1].kind == SPEC_AUTO) {
			/* `ecr auto from Q`: what the stack sent another peer. */
			const struct peer_state *seen = o->v[1].value == 0 ? p : p->all ? &p->all[o->v[1].value - 1] : NULL;
			if (!seen || !seen->kernel_tsval_known) {
				*error = o->v[1].value > 0 ? "`ecr auto from`: the stack has not sent a timestamp to that peer yet"
							   : "`ecr auto`: the stack has not sent a timestamp to this peer yet";
				return -1;
			}
			out->ts_ecr = seen->kernel_tsval;
		} else {
			out->ts_ecr = (uint32_t)o->v[1].value;
		}
		break;
	case TCP_OPTION_EXPERIMENTAL:
		out->exp_magic = (uint16_t)o->v[0].value;
		break;
	default:
		break;
	}
	out->cookie_len = o->cookie_len; /* Fast Open's, 0 for every other kind */
	memcpy(out->cookie, o->cookie, o->cookie_len);
	if (o->stack_cookie) {
		if (!p->stack_cookie_known) {
			*error = "TFO_COOKIE: the stack's Fast Open key could not be read";
			return -1;
		}
		out->cookie_len = TCP_FASTOPEN_COOKIE_SIZE;
		memcpy(out->cookie, p->stack_cookie, TCP_FASTOPEN_COOKIE_SIZE);
	}
	return 0;
}

int peer_build_segment(struct peer_state *p, const struct segment_spec *spec, const struct ip_address *target,
		       int64_t since_start_ns, struct segment *out, const char **error)
{
	if (p->target_port == 0) {
		*error = "no target port known yet for this peer (no `app listen`/`bind`, no SYN from the stack)";
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->src_ip = p->address;
	out->dst_ip = *target;
	out->src_port = p->port;
	out->dst_port = p->target_port;
	out->flags = spec->flags;
	out->seq = p->isn + (uint32_t)spec->seq.value;
	if (spec->ack.kind == SPEC_VALUE)
		out->ack = (p->kernel_isn_known ? p->kernel_isn : 0) + (uint32_t)spec->ack.value;
	out->window = spec->win.kind == SPEC_VALUE ? (uint16_t)spec->win.value : DEFAULT_WINDOW;
	out->payload_len = spec->payload_len;
	out->ip_ecn = spec->has_ip_ecn ? spec->ip_ecn : IP_ECN_NOT_ECT;
	out->option_count = spec->has_options ? spec->option_count : 0;
	for (size_t i = 0; i < out->option_count; i++)
		if (build_option(p, &spec->options[i], since_start_ns, &out->options[i], error) < 0)
			return -1;

	for (size_t i = 0; i < out->option_count; i++)
		if (out->options[i].kind == TCP_OPTION_TIMESTAMP) {
			p->own_tsval = out->options[i].ts_val;
			p->own_tsval_known = true;
		}
	uint32_t end = out->seq + out->payload_len + !!(out->flags & TCP_FLAG_SYN) + !!(out->flags & TCP_FLAG_FIN);
	if (!p->sent_anything || (int32_t)(end - p->snd_nxt) > 0)
		p->snd_nxt = end;
	p->sent_anything = true;
	return 0;
}

static bool is_active_open(const struct segment *s)
{
	return (s->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

bool peer_owns(const struct peer_state *p, const struct segment *s)
{
	if (!ip_address_equal(&s->dst_ip, &p->address) || s->dst_port != p->port)
		return false;
	/* The new connection's SYN, not a retransmission of the last one's. */
	if (p->awaiting_active_open)
		return is_active_open(s) && s->src_port != p->target_port;
	return p->target_port == 0 || s->src_port == p->target_port;
}

void peer_learn(struct peer_state *p, const struct segment *s)
{
	if (p->target_port == 0 || (p->awaiting_active_open && is_active_open(s)))
		p->target_port = s->src_port;
	p->awaiting_active_open = false;
	if (s->flags & TCP_FLAG_SYN) {
		/* A new connection's SYN (not a retransmission): its TS vals start a baseline of their own. */
		if (!p->kernel_isn_known || p->kernel_isn != s->seq)
			p->ts_baseline_known = false;
		p->kernel_isn = s->seq;
		p->kernel_isn_known = true;
	}
	for (size_t i = 0; i < s->option_count; i++)
		if (s->options[i].kind == TCP_OPTION_TIMESTAMP) {
			p->kernel_tsval = s->options[i].ts_val;
			p->kernel_tsval_known = true;
		}
}

/* seq counts from seq_base, ack and SACK edges from ack_base: the sender's and the receiver's ISN. */
static void relative_view(const struct segment *s, uint32_t seq_base, uint32_t ack_base, struct segment_spec *out)
{
	memset(out, 0, sizeof *out);
	out->flags = s->flags;
	out->seq = (struct spec_value){ SPEC_VALUE, (uint32_t)(s->seq - seq_base) };
	out->payload_len = s->payload_len;
	if (s->flags & TCP_FLAG_ACK)
		out->ack = (struct spec_value){ SPEC_VALUE, (uint32_t)(s->ack - ack_base) };
	out->win = (struct spec_value){ SPEC_VALUE, s->window };
	out->ip_ecn = s->ip_ecn;
	out->has_options = true;
	out->option_count = s->option_count;
	segment_options_to_specs(s->options, s->option_count, out->options);
	for (size_t i = 0; i < s->option_count; i++)
		if (out->options[i].kind == TCP_OPTION_SACK)
			for (int b = 0; b < 2 * out->options[i].sack_block_count; b++)
				out->options[i].v[b].value = (uint32_t)((uint32_t)out->options[i].v[b].value - ack_base);
}

void peer_relative_view(const struct peer_state *p, const struct segment *s, struct segment_spec *out)
{
	relative_view(s, p->kernel_isn_known ? p->kernel_isn : 0, p->isn, out);
}

void peer_injected_view(const struct peer_state *p, const struct segment *s, struct segment_spec *out)
{
	relative_view(s, p->isn, p->kernel_isn_known ? p->kernel_isn : 0, out);
	out->has_ip_ecn = s->ip_ecn != IP_ECN_NOT_ECT;
}

void peer_resolve_expected(const struct peer_state *p, const struct segment_spec *expected, struct segment_spec *out)
{
	*out = *expected;
	for (size_t i = 0; i < out->option_count; i++) {
		struct option_spec *o = &out->options[i];
		if (o->stack_cookie && p->stack_cookie_known) {
			o->cookie_len = TCP_FASTOPEN_COOKIE_SIZE;
			memcpy(o->cookie, p->stack_cookie, TCP_FASTOPEN_COOKIE_SIZE);
		}
		if (o->kind != TCP_OPTION_TIMESTAMP)
			continue;
		/* The stack's own TSval cannot be predicted: `auto` there means "any". */
		if (o->v[0].kind == SPEC_AUTO || o->v[0].kind == SPEC_RELATIVE)
			o->v[0].kind = SPEC_ANY;
		if (o->v[1].kind != SPEC_AUTO)
			continue;
		const struct peer_state *sender = o->v[1].value == 0 ? p : p->all ? &p->all[o->v[1].value - 1] : NULL;
		o->v[1] = sender && sender->own_tsval_known ? (struct spec_value){ SPEC_VALUE, sender->own_tsval }
							    : (struct spec_value){ SPEC_VALUE, 0 };
	}
}

void peer_map_ts_ticks(struct peer_state *p, struct segment_spec *expected, const struct segment_spec *observed)
{
	const struct option_spec *seen = NULL;
	for (size_t i = 0; i < observed->option_count; i++)
		if (observed->options[i].kind == TCP_OPTION_TIMESTAMP)
			seen = &observed->options[i];
	for (size_t i = 0; seen && i < expected->option_count; i++) {
		struct option_spec *o = &expected->options[i];
		if (o->kind != TCP_OPTION_TIMESTAMP || !o->ts_tick_usecs || o->v[0].kind != SPEC_VALUE)
			continue;
		uint32_t script = (uint32_t)o->v[0].value, actual = (uint32_t)seen->v[0].value;
		if (!p->ts_baseline_known) {
			p->ts_baseline_known = true;
			p->ts_script_first = script;
			p->ts_actual_first = actual;
		}
		int32_t off_ticks = (int32_t)(p->ts_script_first + (actual - p->ts_actual_first) - script);
		uint64_t off_usecs = (uint64_t)(off_ticks < 0 ? -(int64_t)off_ticks : off_ticks) * o->ts_tick_usecs;
		o->v[0].value = off_usecs <= o->ts_tolerance_usecs ? actual : p->ts_actual_first + (script - p->ts_script_first);
	}
}

void peer_new_incarnation(struct peer_state *p, int64_t seq_delta, int64_t ts_delta)
{
	p->isn = (uint32_t)((int64_t)p->snd_nxt + seq_delta);
	p->snd_nxt = p->isn;
	p->sent_anything = false;
	p->own_tsval_known = false;
	p->ts_jump += ts_delta;
}
