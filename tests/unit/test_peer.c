/* test_peer.c - relative sequence space, timestamp clock and incarnations of a simulated peer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "peer.h"

/* 192.0.2.1, held v4-mapped as ip_address.h holds IPv4. */
static const struct ip_address target_ipv4 = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } };
#define TARGET_IP (&target_ipv4)

/* `peer c 192.0.2.10:40000 isn 1000000 tsclock 1000 rate 1000 to 8080`. */
static const struct peer_decl peer_c = { .name = "c", .ip = 0xc000020a, .port = 40000, .isn = 1000000,
					 .ts_start = 1000, .ts_rate_hz = 1000, .target_port = 8080 };

/* Peer c as a run in family starts it. */
static struct peer_state started(enum address_family family)
{
	struct peer_state p;
	peer_init(&p, &peer_c, family);
	return p;
}

static struct segment_spec spec(uint8_t flags, int64_t seq, uint32_t len)
{
	struct segment_spec s = { .flags = flags, .seq = { SPEC_VALUE, seq }, .payload_len = len };
	return s;
}

static struct segment from_stack(uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct segment s = { .src_ip = *TARGET_IP, .dst_ip = ip_address_from_ipv4(0xc000020a), .src_port = 8080, .dst_port = 40000,
			     .flags = flags, .seq = seq, .ack = ack, .window = 65160 };
	return s;
}

static void test_injected_numbers_are_relative_to_both_isns(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV4);
	struct segment out;
	const char *error = NULL;
	struct segment_spec syn = spec(TCP_FLAG_SYN, 0, 0);
	assert_int_equal(peer_build_segment(&p, &syn, TARGET_IP, 0, &out, &error), 0);
	assert_int_equal(out.seq, 1000000);
	assert_int_equal(out.window, 65535);
	assert_int_equal(out.dst_port, 8080);

	struct segment synack = from_stack(TCP_FLAG_SYN | TCP_FLAG_ACK, 3000000000u, 1000001);
	peer_learn(&p, &synack);
	struct segment_spec view;
	peer_relative_view(&p, &synack, &view);
	assert_int_equal(view.seq.value, 0);
	assert_int_equal(view.ack.value, 1);

	struct segment_spec ack = spec(TCP_FLAG_ACK, 1, 0);
	ack.ack = (struct spec_value){ SPEC_VALUE, 1 };
	assert_int_equal(peer_build_segment(&p, &ack, TARGET_IP, 0, &out, &error), 0);
	assert_int_equal(out.seq, 1000001);
	assert_int_equal(out.ack, 3000000001u);
}

static void test_unknown_stack_isn_counts_as_zero(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV4);
	struct segment rst = from_stack(TCP_FLAG_RST, 1000, 0);
	peer_learn(&p, &rst);
	struct segment_spec view;
	peer_relative_view(&p, &rst, &view);
	assert_int_equal(view.seq.value, 1000);
	assert_int_equal(view.ack.kind, SPEC_UNSET);
}

static void test_timestamp_clock_auto_relative_and_ecr(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV4);
	assert_int_equal(peer_tsval(&p, 0), 1000);
	assert_int_equal(peer_tsval(&p, 250 * 1000000LL), 1250);

	struct segment_spec ack = spec(TCP_FLAG_ACK, 1, 0);
	ack.has_options = true;
	ack.option_count = 1;
	ack.options[0].kind = TCP_OPTION_TIMESTAMP;
	ack.options[0].v[0] = (struct spec_value){ SPEC_RELATIVE, -10 };
	ack.options[0].v[1] = (struct spec_value){ SPEC_AUTO, 0 };
	struct segment out;
	const char *error = NULL;
	assert_int_equal(peer_build_segment(&p, &ack, TARGET_IP, 0, &out, &error), -1);
	assert_non_null(strstr(error, "ecr auto"));

	struct segment synack = from_stack(TCP_FLAG_SYN | TCP_FLAG_ACK, 5, 1000001);
	synack.option_count = 1;
	synack.options[0] = (struct tcp_option){ .kind = TCP_OPTION_TIMESTAMP, .length = 10, .ts_val = 777,
						 .ts_ecr = 1000 };
	peer_learn(&p, &synack);
	assert_int_equal(peer_build_segment(&p, &ack, TARGET_IP, 100 * 1000000LL, &out, &error), 0);
	assert_int_equal(out.options[0].ts_val, 1090);
	assert_int_equal(out.options[0].ts_ecr, 777);

	/* An expected `ecr auto` is the TSval this peer sent last. */
	struct segment_spec expected = ack, resolved;
	peer_resolve_expected(&p, &expected, &resolved);
	assert_int_equal(resolved.options[0].v[1].kind, SPEC_VALUE);
	assert_int_equal(resolved.options[0].v[1].value, 1090);
	assert_int_equal(resolved.options[0].v[0].kind, SPEC_ANY);
}

static void test_new_incarnation_starts_from_snd_nxt(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV4);
	struct segment out;
	const char *error = NULL;
	struct segment_spec syn = spec(TCP_FLAG_SYN, 0, 0);
	struct segment_spec fin = spec(TCP_FLAG_FIN | TCP_FLAG_ACK, 1, 0);
	assert_int_equal(peer_build_segment(&p, &syn, TARGET_IP, 0, &out, &error), 0);
	assert_int_equal(peer_build_segment(&p, &fin, TARGET_IP, 0, &out, &error), 0);
	/* SYN and FIN each take a sequence number: snd_nxt is ISN + 2. */
	peer_new_incarnation(&p, -5, 100);
	assert_int_equal(p.isn, 1000002 - 5);
	assert_int_equal(peer_tsval(&p, 0), 1100);
	assert_int_equal(peer_build_segment(&p, &syn, TARGET_IP, 0, &out, &error), 0);
	assert_int_equal(out.seq, 999997);
}

static void test_owns_by_address_port_and_learned_target_port(void **state)
{
	(void)state;
	struct peer_decl d = peer_c;
	d.target_port = 0;
	struct peer_state p;
	peer_init(&p, &d, FAMILY_IPV4);
	struct segment s = from_stack(TCP_FLAG_SYN, 1, 0);
	s.src_port = 40001;
	assert_true(peer_owns(&p, &s));
	peer_learn(&p, &s);
	assert_int_equal(p.target_port, 40001);
	s.src_port = 40002;
	assert_false(peer_owns(&p, &s));
	s.src_port = 40001;
	s.dst_port = 40005;
	assert_false(peer_owns(&p, &s));
}

/* In the ipv6 family the peer sends from, and owns segments to, its address mapped into 2001:db8::/96. */
static void test_ipv6_family_maps_the_peer_address(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV6);
	struct ip_address target = family_address(FAMILY_IPV6, 0xc0000201);
	struct segment out;
	const char *error = NULL;
	struct segment_spec syn = spec(TCP_FLAG_SYN, 0, 0);
	assert_int_equal(peer_build_segment(&p, &syn, &target, 0, &out, &error), 0);
	char text[IP_ADDRESS_TEXT_MAX];
	assert_string_equal(ip_address_format(&out.src_ip, text), "2001:db8::c000:20a");
	assert_true(ip_address_equal(&out.dst_ip, &target));

	struct segment v4 = from_stack(TCP_FLAG_SYN | TCP_FLAG_ACK, 1, 1000001);
	assert_false(peer_owns(&p, &v4));
	struct segment v6 = v4;
	v6.src_ip = target;
	v6.dst_ip = out.src_ip;
	assert_true(peer_owns(&p, &v6));
}

/* `ecr auto from Q`: injected, the last TSval the stack sent Q; expected, the last one Q sent. Q is
 * index + 1 in the ecr's value (0: the line's own peer); without the run's peers it is unknown. */
/* A TS option in a spec: the script's val, and the tick and tolerance of --tcp_ts_tick_usecs. */
static struct segment_spec with_ts(uint32_t val)
{
	struct segment_spec s = spec(TCP_FLAG_ACK, 1, 0);
	s.option_count = 1;
	s.options[0] = (struct option_spec){ .kind = TCP_OPTION_TIMESTAMP,
					     .v = { { SPEC_VALUE, val }, { SPEC_ANY, 0 } },
					     .ts_tick_usecs = 1000,
					     .ts_tolerance_usecs = 4000 };
	return s;
}

static void test_ts_ticks_count_from_the_first_ts_val(void **state)
{
	(void)state;
	struct peer_state p = started(FAMILY_IPV4);
	/* The first TS val the stack sends (5000) stands for the script's 100. */
	struct segment_spec expected = with_ts(100), observed = with_ts(5000);
	peer_map_ts_ticks(&p, &expected, &observed);
	assert_int_equal(expected.options[0].v[0].value, 5000);
	/* 300 ticks later the script says 400: within 4 ticks of 5303 it matches. */
	expected = with_ts(400);
	observed = with_ts(5303);
	peer_map_ts_ticks(&p, &expected, &observed);
	assert_int_equal(expected.options[0].v[0].value, 5303);
	/* 5 ticks off is 5 ms, beyond the 4 ms: the expected val is what 400 stands for, 5300. */
	observed = with_ts(5305);
	expected = with_ts(400);
	peer_map_ts_ticks(&p, &expected, &observed);
	assert_int_equal(expected.options[0].v[0].value, 5300);
	/* A new connection's SYN starts a baseline of its own. */
	peer_learn(&p, &(struct segment){ .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .seq = 77 });
	expected = with_ts(100);
	observed = with_ts(9000);
	peer_map_ts_ticks(&p, &expected, &observed);
	assert_int_equal(expected.options[0].v[0].value, 9000);
}

static void test_ecr_auto_from_another_peer(void **state)
{
	(void)state;
	struct peer_decl d = peer_c, other_decl = peer_c;
	strcpy(other_decl.name, "n");
	other_decl.ts_start = 500000;
	struct peer_state peers[2];
	peer_init(&peers[0], &d, FAMILY_IPV4);
	peer_init(&peers[1], &other_decl, FAMILY_IPV4);
	peers[0].all = peers[1].all = peers;
	struct segment to_n = from_stack(TCP_FLAG_ACK, 1, 1);
	to_n.option_count = 1;
	to_n.options[0] = (struct tcp_option){ .kind = TCP_OPTION_TIMESTAMP, .ts_val = 777, .ts_ecr = 1 };
	peer_learn(&peers[1], &to_n);

	struct segment_spec ack = spec(TCP_FLAG_ACK, 0, 0);
	ack.has_options = true;
	ack.option_count = 1;
	ack.options[0] = (struct option_spec){ .kind = TCP_OPTION_TIMESTAMP,
					       .v = { { SPEC_VALUE, 5 }, { SPEC_AUTO, 2 } } };
	struct segment out;
	const char *error = NULL;
	assert_int_equal(peer_build_segment(&peers[0], &ack, TARGET_IP, 0, &out, &error), 0);
	assert_int_equal(out.options[0].ts_ecr, 777);
	/* Peer 0's own `ecr auto`: the stack sent it nothing yet. */
	ack.options[0].v[1].value = 0;
	assert_int_equal(peer_build_segment(&peers[0], &ack, TARGET_IP, 0, &out, &error), -1);
	assert_string_equal(error, "`ecr auto`: the stack has not sent a timestamp to this peer yet");

	/* Expected: peer 1 echoes what peer 0 sent last (5, just above). */
	struct segment_spec expected = ack, resolved;
	expected.options[0].v[1] = (struct spec_value){ SPEC_AUTO, 1 };
	peer_resolve_expected(&peers[1], &expected, &resolved);
	assert_int_equal(resolved.options[0].v[1].kind, SPEC_VALUE);
	assert_int_equal(resolved.options[0].v[1].value, 5);

	/* Without the run's peers (a probe), another peer is unknown. */
	peers[0].all = NULL;
	ack.options[0].v[1].value = 2;
	assert_int_equal(peer_build_segment(&peers[0], &ack, TARGET_IP, 0, &out, &error), -1);
	assert_string_equal(error, "`ecr auto from`: the stack has not sent a timestamp to that peer yet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_injected_numbers_are_relative_to_both_isns),
		cmocka_unit_test(test_unknown_stack_isn_counts_as_zero),
		cmocka_unit_test(test_timestamp_clock_auto_relative_and_ecr),
		cmocka_unit_test(test_new_incarnation_starts_from_snd_nxt),
		cmocka_unit_test(test_owns_by_address_port_and_learned_target_port),
		cmocka_unit_test(test_ipv6_family_maps_the_peer_address),
		cmocka_unit_test(test_ecr_auto_from_another_peer),
		cmocka_unit_test(test_ts_ticks_count_from_the_first_ts_val),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

