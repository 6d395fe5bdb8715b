/* test_storm.c - storm mode against the real kernel (needs root): 2000 whole lifecycles fill a
 * tcp_max_tw_buckets of 1000, every segment checked; storms whose plan is wrong must fail with a diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "observe.h"
#include "sandbox.h"
#include "storm.h"
#include "symbols.h"
#include "wire.h"

/* 192.0.2.1 and 192.0.2.10, held v4-mapped as ip_address.h holds IPv4. */
#define TARGET_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } }
#define PEER_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 } }
static const struct ip_address target_ip = TARGET_IP, peer_ip = PEER_IP;
#define LISTEN_PORT 8080
#define FIRST_PORT 40000
#define CONNECTIONS 2000
#define TW_BUCKETS 1000
/* sock_diag states run from TCP_ESTABLISHED (1) to TCP_NEW_SYN_RECV (12); 0 is "no socket". */
#define STATE_SLOTS 16

static const struct ip_address peer_ips[] = { PEER_IP };
static const struct sandbox_config config = { TARGET_IP, peer_ips, 1, NULL, 0, false };

struct bed {
	struct sandbox sandbox;
	struct wire *wire;
	struct agent agent;
};

static int setup(void **state)
{
	struct bed *bed = calloc(1, sizeof *bed);
	char *error = NULL;
	if (!bed || sandbox_create(&config, &bed->sandbox, &error) < 0)
		fail_msg("sandbox: %s", error ? error : "out of memory");
	bed->wire = wire_open(bed->sandbox.harness_netns_fd, bed->sandbox.harness_ifname, bed->sandbox.harness_mac,
			      bed->sandbox.target_mac, false, storm_ring_frames(CONNECTIONS), &error);
	if (!bed->wire)
		fail_msg("wire_open: %s", error);
	if (agent_spawn_local(bed->sandbox.target_netns_fd, &bed->agent, &error) < 0)
		fail_msg("agent: %s", error);
	*state = bed;
	return 0;
}

static int teardown(void **state)
{
	struct bed *bed = *state;
	agent_stop(&bed->agent);
	wire_close(bed->wire);
	wire_wait_released();
	sandbox_destroy(&bed->sandbox);
	free(bed);
	return 0;
}

static const struct storm_plan plan = { .target_ip = TARGET_IP, .target_port = LISTEN_PORT, .peer_ip = PEER_IP,
					.first_port = FIRST_PORT, .count = CONNECTIONS, .isn = 1000000,
					.listener = "lsn" };

static int64_t counter(struct agent *agent, const char *name)
{
	int64_t value = 0;
	char *error = NULL;
	if (agent_counter(agent, name, &value, &error) != 1)
		fail_msg("counter %s: %s", name, error ? error : "no such counter");
	return value;
}

/* The sock_diag state of every connection's 4-tuple, as counts per state. */
static void count_states(const struct bed *bed, int counts[STATE_SLOTS])
{
	struct observer observer;
	char *error = NULL;
	if (observe_open(bed->sandbox.target_netns_fd, &observer, &error) < 0)
		fail_msg("observe_open: %s", error);
	for (uint32_t i = 0; i < CONNECTIONS; i++) {
		struct socket_evidence seen;
		if (observe_tcp_socket(&observer, &target_ip, LISTEN_PORT, &peer_ip, (uint16_t)(FIRST_PORT + i), &seen,
				       &error) < 0)
			fail_msg("sock_diag: %s", error);
		assert_true(seen.state >= 0 && seen.state < STATE_SLOTS);
		counts[seen.state]++;
	}
	observe_close(&observer);
}

/* The plan with count connections. */
static struct storm_plan plan_of(uint32_t count)
{
	struct storm_plan p = plan;
	p.count = count;
	return p;
}

static void listen_for(struct bed *bed, uint32_t count)
{
	char *error = NULL;
	if (storm_listen(&bed->agent, "lsn", LISTEN_PORT, count, &error) < 0)
		fail_msg("storm_listen: %s", error);
}

static void call_app(struct bed *bed, const struct app_call *call, const char *what)
{
	struct agent_reply reply;
	char *error = NULL;
	if (agent_call(&bed->agent, call, &reply, &error) < 0 || reply.err)
		fail_msg("%s: %s", what, error ? error : errno_name(reply.err));
}

/* Runs the storm p, which must end with want (0: every segment as planned, 1: a mismatch); the test
 * fails with storm_run's error or mismatch otherwise. */
static struct storm_result storm_expecting(struct bed *bed, const struct storm_plan *p, int want)
{
	struct storm_result result;
	char *error = NULL;
	int64_t dropped_before = wire_capture_dropped(bed->wire);
	int rc = storm_run(bed->wire, &bed->agent, p, &result, &error);
	if (rc < 0)
		fail_msg("storm_run: %s", error);
	if (rc != want)
		fail_msg("storm_run returned %d, want %d: %s(the capture lost %lld frames meanwhile)", rc, want,
			 result.mismatch, (long long)(wire_capture_dropped(bed->wire) - dropped_before));
	return result;
}

static void print_mismatch(const char *what, const struct storm_result *result)
{
	printf("%s fails as it must:\n%s", what, result->mismatch);
}

/* tcp_fin() answers the FIN in FIN_WAIT2 with tcp_send_ack() and only then calls tcp_time_wait(), where
 * inet_twsk_alloc() refuses a bucket once tcp_max_tw_buckets are taken: TCPTimeWaitOverflow counts it
 * and tcp_done() closes the socket. So every connection gets its final ACK, and half leave nothing. */
static void test_storm_fills_the_time_wait_buckets(void **state)
{
	struct bed *bed = *state;
	char *error = NULL, buckets[16];
	snprintf(buckets, sizeof buckets, "%d", TW_BUCKETS);
	if (agent_sysctl_set(&bed->agent, "net.ipv4.tcp_max_tw_buckets", buckets, &error) < 0)
		fail_msg("%s", error);
	listen_for(bed, CONNECTIONS);
	int64_t overflow_before = counter(&bed->agent, "TcpExt.TCPTimeWaitOverflow");
	/* The wire's ring was sized for this storm (storm_ring_frames): its chunks are 64 connections, not
	 * the 5 a default ring of 16 frames would allow, and the ring must really hold them. */
	assert_int_equal(storm_chunk(CONNECTIONS, wire_ring_frames(bed->wire)), 64);
	int64_t dropped_before = wire_capture_dropped(bed->wire);

	struct storm_result result = storm_expecting(bed, &plan, 0);
	assert_true(dropped_before >= 0);
	assert_int_equal(wire_capture_dropped(bed->wire) - dropped_before, 0);
	assert_int_equal(result.established, CONNECTIONS);
	assert_int_equal(result.closed_by_stack, CONNECTIONS);
	assert_int_equal(result.time_wait_acked, CONNECTIONS);
	assert_string_equal(result.mismatch, "");
	assert_true(result.elapsed_ns > 0);
	printf("storm: %u lifecycles in %.1f ms: %.0f connection lifecycles per second (%u retransmissions)\n",
	       CONNECTIONS, (double)result.elapsed_ns / 1e6, CONNECTIONS * 1e9 / (double)result.elapsed_ns,
	       result.retransmissions);

	assert_int_equal(counter(&bed->agent, "TcpExt.TCPTimeWaitOverflow") - overflow_before,
			 CONNECTIONS - TW_BUCKETS);
	int counts[STATE_SLOTS] = { 0 };
	count_states(bed, counts);
	assert_int_equal(counts[tcp_state_from_name("TIME_WAIT")], TW_BUCKETS);
	assert_int_equal(counts[TCP_STATE_NO_SOCKET], CONNECTIONS - TW_BUCKETS);

	/* The same 4-tuples again: the first ports still hold TIME_WAIT entries, which answer a SYN below
	 * their rcv_nxt with an ACK in the old connection's numbers (tcp_timewait_state_process). */
	result = storm_expecting(bed, &plan, 1);
	print_mismatch("the same storm again", &result);
	assert_non_null(strstr(result.mismatch, "phase 1 (our SYN, the stack's SYN-ACK): connection 0 of 2000 "
						"(192.0.2.10:40000): the stack's segment differs"));
	assert_non_null(strstr(result.mismatch, "expected: S. 0:0(0) ack 1\n"));
	assert_non_null(strstr(result.mismatch, "observed: . "));
	assert_non_null(strstr(result.mismatch, "on the wire: 192.0.2.1:8080 > 192.0.2.10:40000 . "));
	assert_int_equal(result.established, 0);
}

/* A plan that lies: nothing listens on port 9, so the stack answers the first SYN with a RST. */
static void test_a_port_without_listener_fails(void **state)
{
	struct bed *bed = *state;
	struct storm_plan closed_port = plan;
	closed_port.target_port = 9;
	struct storm_result result = storm_expecting(bed, &closed_port, 1);
	print_mismatch("a storm at a closed port", &result);
	assert_non_null(strstr(result.mismatch, "phase 1 (our SYN, the stack's SYN-ACK): connection 0 of 2000"));
	assert_non_null(strstr(result.mismatch, "    expected: S. 0:0(0) ack 1\n              ^^\n"));
	assert_non_null(strstr(result.mismatch, "    observed: R. 0:0(0) ack 1 win 0 <>\n              ^^\n"));
	assert_int_equal(result.established, 0);
	assert_int_equal(result.time_wait_acked, 0);
}

/* A SYN for connection 0 sent before the storm: the storm's own SYN then repeats it, and the request
 * socket answers a retransmitted SYN with its SYN-ACK again (tcp_check_req). One lifecycle, counted once. */
static void test_a_syn_ack_sent_again_counts_once(void **state)
{
	struct bed *bed = *state;
	struct storm_plan small = plan_of(100);
	listen_for(bed, small.count);
	struct segment early = { .src_ip = peer_ip, .dst_ip = target_ip, .src_port = FIRST_PORT, .dst_port = LISTEN_PORT,
				 .seq = small.isn, .flags = TCP_FLAG_SYN, .window = 64240, .option_count = 1,
				 .options = { { .kind = TCP_OPTION_MSS, .mss = 1460 } } };
	int64_t sent;
	char *error = NULL;
	if (wire_inject(bed->wire, &early, &sent, &error) < 0)
		fail_msg("wire_inject: %s", error);

	struct storm_result result = storm_expecting(bed, &small, 0);
	assert_int_equal(result.established, small.count);
	assert_int_equal(result.time_wait_acked, small.count);
	assert_int_equal(result.retransmissions, 1);
}

/* A listener with TCP_DEFER_ACCEPT drops the handshake's pure ACK while the request has had fewer SYN-ACK
 * timeouts than the option's value (tcp_check_req: it only marks the request acked), and resends the
 * SYN-ACK when the timer runs out (syn_ack_recalc): a lost ACK, as a slow guest loses one. The storm
 * answers each SYN-ACK sent again with the ACK again, as a real peer does, and the connections complete. */
static void test_a_syn_ack_sent_again_after_our_ack_is_acked_again(void **state)
{
	struct bed *bed = *state;
	struct storm_plan small = plan_of(4);
	listen_for(bed, small.count);
	struct app_call defer = { .op = APP_SETSOCKOPT, .handle = "lsn", .option = "TCP_DEFER_ACCEPT",
				  .values = { 1 }, .value_count = 1 };
	call_app(bed, &defer, "TCP_DEFER_ACCEPT");

	struct storm_result result = storm_expecting(bed, &small, 0);
	assert_int_equal(result.established, small.count);
	assert_int_equal(result.time_wait_acked, small.count);
	assert_true(result.acks_again >= small.count);
	assert_int_equal(result.acks_again, result.retransmissions);
}

/* A backlog smaller than the storm: past it the SYNs get syncookies and their handshake's ACK meets a
 * full accept queue (tcp_v4_syn_recv_sock drops it), so the application finds too few connections. */
static void test_a_small_backlog_fails(void **state)
{
	struct bed *bed = *state;
	struct storm_plan small = plan_of(100);
	struct app_call listen = { .op = APP_LISTEN, .handle = "lsn", .port = LISTEN_PORT, .backlog = 50 };
	call_app(bed, &listen, "listen");
	struct storm_result result = storm_expecting(bed, &small, 1);
	print_mismatch("a storm past the backlog", &result);
	assert_non_null(strstr(result.mismatch, "phase 3 (the application closes, the stack's FIN): connection "));
	assert_non_null(strstr(result.mismatch, "this one is among those never queued"));
	assert_int_equal(result.established, small.count);
	assert_true(result.closed_by_stack > 0 && result.closed_by_stack < small.count);
}

static void test_a_plan_outside_the_port_range_is_refused(void **state)
{
	struct bed *bed = *state;
	struct storm_plan too_many = plan;
	too_many.first_port = 65000;
	struct storm_result result;
	char *error = NULL;
	assert_int_equal(storm_run(bed->wire, &bed->agent, &too_many, &result, &error), -1);
	assert_non_null(strstr(error, "do not fit in the port range"));
	free(error);
}

int main(void)
{
#define IN_BED(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
	const struct CMUnitTest tests[] = {
		IN_BED(test_storm_fills_the_time_wait_buckets),
		IN_BED(test_a_port_without_listener_fails),
		IN_BED(test_a_syn_ack_sent_again_counts_once),
		IN_BED(test_a_syn_ack_sent_again_after_our_ack_is_acked_again),
		IN_BED(test_a_small_backlog_fails),
		IN_BED(test_a_plan_outside_the_port_range_is_refused),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_storm: needs root (network namespaces); skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
