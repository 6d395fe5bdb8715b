/* dry_run.c - see dry_run.h. The frames come from the same builders a run uses (peer.c for the
 * numbers, wire.c and arp_proxy.c for the bytes), so what is printed is what would be sent. */
#include "dry_run.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "capability.h"
#include "error_text.h"
#include "nd_proxy.h"
#include "peer.h"
#include "segment_format.h"
#include "send_budget.h"
#include "target_backend.h"
#include "wire.h"

#define FRAME_MAX 256
#define HEX_INDENT "        "

static void print_hex(FILE *out, const uint8_t *frame, int len)
{
	fputs(HEX_INDENT, out);
	for (int i = 0; i < len; i++)
		fprintf(out, "%02x", frame[i]);
	fprintf(out, "  (%d bytes)\n", len);
}

static const char *ip_text(const struct target *t, uint32_t case_ip, char buf[IP_ADDRESS_TEXT_MAX])
{
	struct ip_address a = family_address(target_wire_family(t), case_ip);
	return ip_address_format(&a, buf);
}

static int print_probes(struct target *t, FILE *out, char **error)
{
	uint8_t frame[FRAME_MAX];
	char ip[IP_ADDRESS_TEXT_MAX];
	fprintf(out, "sent already: %s for the %d peer address%s and the target:\n",
		t->nd ? "RFC 4862 duplicate address probes (3 rounds, neighbour solicitations from ::)"
		      : "RFC 5227 probes (3 rounds, sender 0.0.0.0)",
		t->claimed_count, t->claimed_count == 1 ? "" : "es");
	for (int i = 0; i <= t->claimed_count; i++) {
		uint32_t asked = i < t->claimed_count ? t->claimed[i] : t->target_ip;
		struct ip_address on_wire = family_address(target_wire_family(t), asked);
		int len = t->nd ? nd_proxy_probe_frame(t->nd, &on_wire, frame, sizeof frame, error)
				: arp_proxy_probe_frame(t->arp, asked, frame, sizeof frame, error);
		if (len < 0)
			return -1;
		fprintf(out, t->nd ? "  neighbour solicitation for %s from ::\n" : "  arp who-has %s tell 0.0.0.0\n",
			ip_text(t, asked, ip));
		print_hex(out, frame, len);
	}
	return 0;
}

/* The stack's numbers are learned while a case runs; here they count as 0. */
static void assume_stack_numbers(struct peer_state *p)
{
	p->kernel_isn_known = p->kernel_tsval_known = true;
	p->kernel_isn = p->kernel_tsval = 0;
}

static int print_injection(struct wire *w, const struct case_file *c, enum address_family family, struct peer_state *p,
			   const struct step *s, int64_t at_ns, FILE *out, char **error)
{
	struct segment segment;
	const char *why = NULL;
	struct ip_address target = family_address(family, c->target_ip);
	if (peer_build_segment(p, &s->u.segment, &target, at_ns, &segment, &why) < 0) {
		fprintf(out, "  %7.3f %s < (not built here: %s)\n", (double)at_ns / 1e9, p->decl->name, why);
		return 0;
	}
	struct segment_spec view;
	char text[RUN_EVENT_TEXT];
	peer_injected_view(p, &segment, &view);
	segment_format_spec(&view, text, sizeof text, NULL);
	fprintf(out, "  %7.3f %s < %s\n", (double)at_ns / 1e9, p->decl->name, text);
	uint8_t frame[FRAME_MAX];
	int len = wire_build_frame(w, &segment, frame, sizeof frame, error);
	if (len < 0)
		return -1;
	print_hex(out, frame, len);
	return 0;
}

static int print_run(struct target *t, struct wire *w, const struct run_record *r, FILE *out, char **error)
{
	struct case_file c = *r->c;
	c.target_ip = t->target_ip;
	fprintf(out, "== %s ==\n", r->name);
	uint8_t frame[FRAME_MAX];
	char ip[IP_ADDRESS_TEXT_MAX], target[IP_ADDRESS_TEXT_MAX];
	enum address_family family = target_wire_family(t);
	for (int i = 0; i < c.peer_count; i++) {
		struct ip_address peer = family_address(family, c.peers[i].ip);
		int len = t->nd ? nd_proxy_announce_frame(t->nd, &peer, frame, sizeof frame, error)
				: arp_proxy_announce_frame(t->arp, c.peers[i].ip, frame, sizeof frame, error);
		if (len < 0)
			return -1;
		fprintf(out, t->nd ? "  neighbour solicitation for %s from %s (announces the peer)\n"
				   : "  arp who-has %s tell %s (announces the peer)\n",
			ip_text(t, t->target_ip, target), ip_text(t, c.peers[i].ip, ip));
		print_hex(out, frame, len);
	}
	fprintf(out, "  (and %s from %s's MAC for a peer address whenever the target asks)\n",
		t->nd ? "a neighbour advertisement" : "an ARP reply", t->ifname);
	for (int i = 0; i < c.require_count; i++)
		if (c.requires[i].kind == REQUIRE_OPTION) {
			/* An IPv6 address and its port as RFC 3986 writes them: [2001:db8::c000:20a]:1. */
			fprintf(out, "  before the case: a SYN from %s%s%s:%d to port %d offering every option, and its RST "
				     "(capability.h: what `require option` decides by)\n",
				t->nd ? "[" : "", ip_text(t, c.peers[0].ip, ip), t->nd ? "]" : "", CAPABILITY_PROBE_SOURCE_PORT,
				CAPABILITY_PROBE_PORT);
			break;
		}
	int64_t *at_ns = malloc((size_t)(c.step_count ? c.step_count : 1) * sizeof *at_ns);
	struct peer_state peers[CASE_MAX_PEERS];
	if (!at_ns)
		return error_set(error, "out of memory");
	send_budget_timeline(&c, r->variant, at_ns);
	for (int i = 0; i < c.peer_count; i++) {
		peer_init(&peers[i], &c.peers[i], family);
		peers[i].all = peers;
		assume_stack_numbers(&peers[i]);
	}
	int rc = 0;
	for (int i = 0; i < c.step_count && rc == 0; i++) {
		const struct step *s = &c.steps[i];
		if (r->variant >= 0 && !(s->variant_mask >> r->variant & 1u))
			continue;
		struct peer_state *p = s->peer >= 0 ? &peers[s->peer] : NULL;
		if (s->kind == STEP_INJECT) {
			rc = print_injection(w, &c, family, p, s, at_ns[i], out, error);
		} else if (s->kind == STEP_STORM) {
			fprintf(out, "  %7.3f %s storm %u: %u segments (SYN, ACK, FIN-ACK from ports %u-%u), at most %u a "
				     "second\n", (double)at_ns[i] / 1e9, p->decl->name, s->u.storm.count,
				3 * s->u.storm.count, p->decl->port, p->decl->port + s->u.storm.count - 1, t->max_pps);
		} else if (s->kind == STEP_INCARNATION) {
			peer_new_incarnation(p, s->u.incarnation.seq_delta, s->u.incarnation.ts_delta);
		} else if (s->kind == STEP_TSCLOCK_JUMP) {
			p->ts_jump += s->u.ts_jump;
		}
	}
	free(at_ns);
	return rc;
}

int dry_run_print(struct target *t, const struct run_set *set, FILE *out, char **error)
{
	char mac[18];
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", t->target_mac[0], t->target_mac[1],
		 t->target_mac[2], t->target_mac[3], t->target_mac[4], t->target_mac[5]);
	char ip[IP_ADDRESS_TEXT_MAX];
	fprintf(out, "dry run on %s: the target %s is at %s; the frames below are what a run would send, and none "
		     "is sent\n", t->ifname, ip_text(t, t->target_ip, ip), mac);
	if (print_probes(t, out, error) < 0)
		return -1;
	struct wire *w = wire_open(t->harness_netns_fd, t->ifname, t->harness_mac, t->target_mac, false, 0, error);
	if (!w)
		return -1;
	struct ip_address target = family_address(target_wire_family(t), t->target_ip);
	int rc = wire_restrict(w, &target, error);
	/* A lab host runs some families only (target_runs_family): the others would be SKIPs. */
	for (int i = 0; i < set->count && rc == 0; i++)
		if (target_runs_family(t, set->runs[i].family))
			rc = print_run(t, w, &set->runs[i], out, error);
	wire_close(w);
	wire_wait_released();
	return rc;
}
