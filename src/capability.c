/* capability.c - see capability.h. */
#include "capability.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "error_text.h"
#include "peer.h"
#include "segment_format.h"
#include "symbols.h"
#include "wire.h"

/* A TCG-emulated VM answers in tens of milliseconds, and slower under load. */
#define PROBE_REPLY_TIMEOUT_NS (3 * 1000000000LL)
#define PROBE_HANDLE "thprobe"
#define SEGMENT_TEXT_MAX 256

/* Every option `require option` can ask for, in the order Linux writes them in its own SYN. */
static const struct segment_spec probe_syn = {
	.flags = TCP_FLAG_SYN,
	.seq = { SPEC_VALUE, 0 },
	.win = { SPEC_VALUE, 65535 },
	.has_options = true,
	.option_count = 5,
	.options = {
		{ .kind = TCP_OPTION_MSS, .v = { { SPEC_VALUE, 1460 } } },
		{ .kind = TCP_OPTION_SACK_PERMITTED },
		{ .kind = TCP_OPTION_TIMESTAMP, .v = { { SPEC_VALUE, 1 }, { SPEC_VALUE, 0 } } },
		{ .kind = TCP_OPTION_NOP },
		{ .kind = TCP_OPTION_WSCALE, .v = { { SPEC_VALUE, 7 } } },
	},
};

/* In the SYN-ACK's sequence space (our ISN + 1): a request socket drops on it at once. */
static const struct segment_spec probe_rst = {
	.flags = TCP_FLAG_RST,
	.seq = { SPEC_VALUE, 1 },
	.win = { SPEC_VALUE, 0 },
};

static int probe_app_call(struct agent *agent, enum app_op op, char **error)
{
	struct app_call call = { .op = op, .port = CAPABILITY_PROBE_PORT, .backlog = 1 };
	strcpy(call.handle, PROBE_HANDLE);
	struct agent_reply reply;
	if (agent_call(agent, &call, &reply, error) < 0)
		return -1;
	if (reply.err)
		return error_set(error, "probe listener on port %d: %s %s", CAPABILITY_PROBE_PORT,
				 op == APP_LISTEN ? "listen" : "close", errno_name(reply.err));
	return 0;
}

static int inject(struct wire *w, struct peer_state *peer, const struct segment_spec *spec, const struct ip_address *target,
		  char **error)
{
	struct segment segment;
	const char *build_error = NULL;
	if (peer_build_segment(peer, spec, target, 0, &segment, &build_error) < 0)
		return error_set(error, "probe: %s", build_error);
	int64_t sent_ns;
	return wire_inject(w, &segment, &sent_ns, error);
}

/* The stack's first segment to the probe's address and port; it must be a SYN-ACK. */
static int await_syn_ack(struct wire *w, const struct peer_state *peer, const struct ip_address *target, struct segment *out,
			 char **error)
{
	int64_t deadline = wire_now_ns() + PROBE_REPLY_TIMEOUT_NS;
	for (;;) {
		struct wire_frame frame;
		int rc = wire_next(w, deadline, &frame, error);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return error_set(error, "no SYN-ACK within %lld s to the SYN that probes the stack's TCP options "
					 "(`require option`) on port %d", PROBE_REPLY_TIMEOUT_NS / 1000000000LL,
					 CAPABILITY_PROBE_PORT);
		if (!frame.decoded || !ip_address_equal(&frame.segment.src_ip, target) || !peer_owns(peer, &frame.segment))
			continue;
		if ((frame.segment.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != (TCP_FLAG_SYN | TCP_FLAG_ACK)) {
			char text[SEGMENT_TEXT_MAX];
			segment_format_absolute(&frame.segment, text, sizeof text);
			return error_set(error, "the stack answered the capability probe's SYN with %s, not a SYN-ACK", text);
		}
		*out = frame.segment;
		return 0;
	}
}

int capability_probe(const struct target_case *tc, const struct peer_decl *from, struct capability_report *out,
		     char **error)
{
	memset(out, 0, sizeof *out);
	struct peer_decl probe = *from;
	probe.port = CAPABILITY_PROBE_SOURCE_PORT;
	probe.target_port = CAPABILITY_PROBE_PORT;
	struct peer_state peer;
	peer_init(&peer, &probe, tc->family);
	struct ip_address target = family_address(tc->family, tc->target_ip);

	struct wire *w = wire_open(tc->harness_netns_fd, tc->ifname, tc->harness_mac, tc->target_mac, false, 0, error);
	if (!w)
		return -1;
	int rc = tc->shared_link ? wire_restrict(w, &target, error) : 0;
	bool listen_tried = rc == 0;
	if (rc == 0)
		rc = probe_app_call(tc->agent, APP_LISTEN, error);
	if (rc == 0)
		rc = inject(w, &peer, &probe_syn, &target, error);
	if (rc == 0)
		rc = await_syn_ack(w, &peer, &target, &out->syn_ack, error);
	if (rc == 0) {
		peer_learn(&peer, &out->syn_ack);
		rc = inject(w, &peer, &probe_rst, &target, error);
	}
	/* The listener goes even when the probe failed; the first error is the one worth reporting. */
	if (listen_tried) {
		char *close_error = NULL;
		if (probe_app_call(tc->agent, APP_CLOSE, rc == 0 ? error : &close_error) < 0)
			rc = -1;
		free(close_error);
	}
	wire_close(w);
	if (rc < 0)
		return -1;
	segment_format_options(probe_syn.options, probe_syn.option_count, out->offered, sizeof out->offered);
	struct option_spec answered[SEGMENT_MAX_OPTIONS];
	segment_options_to_specs(out->syn_ack.options, out->syn_ack.option_count, answered);
	segment_format_options(answered, out->syn_ack.option_count, out->answered, sizeof out->answered);
	return 0;
}

bool capability_carried(const struct capability_report *r, uint8_t kind)
{
	for (size_t i = 0; i < r->syn_ack.option_count; i++)
		if (r->syn_ack.options[i].kind == kind)
			return true;
	return false;
}

char *capability_missing(const struct capability_report *report, const struct requirement *r)
{
	if (capability_carried(report, r->option))
		return NULL;
	char *reason;
	if (asprintf(&reason, "requires TCP option %s: the stack's SYN-ACK to %s carried %s", r->name, report->offered,
		     report->answered) < 0)
		return NULL;
	return reason;
}
