/* test_run_stacks.c - run_case on the local target (needs root) for what differs between stacks: lines
 * for other stacks skipped, unchecked lines (a counter the stack lacks; states from a stack without
 * sock_diag, as gVisor is), sysctls the stack lacks or will not set, and the `require option` probe.
 * The local agent is a fork of this program, so the socket() and listen() here stand in for a stack
 * that lacks sock_diag and for a probe listener that never listens; a worker forks its agent once and
 * keeps it, so a test that changes them lets the worker's link go (with_fresh_agent) for a new fork. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "capability.h"
#include "case_parser.h"
#include "outcome.h"
#include "run.h"
#include "symbols.h"
#include "target.h"
#include "worker_link.h"

static struct target *target;
static bool stack_without_sock_diag; /* socket(AF_NETLINK, ..., NETLINK_SOCK_DIAG) fails as in gVisor */
static bool probe_listener_deaf;     /* listen() on the probe's port does nothing: SYNs there meet RST */

int socket(int domain, int type, int protocol)
{
	if (stack_without_sock_diag && domain == AF_NETLINK && protocol == NETLINK_SOCK_DIAG) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	return (int)syscall(SYS_socket, domain, type, protocol);
}

int listen(int fd, int backlog)
{
	struct sockaddr_in local;
	socklen_t len = sizeof local;
	if (probe_listener_deaf && getsockname(fd, (struct sockaddr *)&local, &len) == 0 &&
	    local.sin_family == AF_INET && ntohs(local.sin_port) == CAPABILITY_PROBE_PORT)
		return 0;
	return (int)syscall(SYS_listen, fd, backlog);
}

static int open_target(void **state)
{
	(void)state;
	struct target_options options = { .kind = TARGET_LOCAL };
	char *error = NULL;
	if (target_open(&options, &target, &error) < 0)
		fail_msg("target: %s", error);
	return 0;
}

static int close_target(void **state)
{
	(void)state;
	target_close(target);
	return 0;
}

/* Sets *flag, the fake socket() or listen() above, for the agents forked from now on: the worker's
 * link, and with it the agent it forked, goes before and after, so no other test meets such an agent. */
static void with_fresh_agent(bool *flag, bool value)
{
	worker_link_release();
	*flag = value;
}

/* Parses text as a case file and runs it under variant (-1: none) on the local target. */
static void run_text(const char *text, int variant, struct case_file *c, struct case_result *result)
{
	char *error = NULL;
	if (case_parse_text("t.tc", text, strlen(text), c, &error) < 0)
		fail_msg("%s", error);
	struct run_options options = { target, NULL, RUN_DEFAULT_TOLERANCE_NS, false, CAPTURE_FORMAT_PCAPNG };
	run_case(c, variant, FAMILY_IPV4, &options, result);
}

static void assert_verdict(const struct case_result *result, enum verdict want)
{
	if (result->verdict != want)
		fail_msg("verdict %d, want %d: %s", result->verdict, want, result->message ? result->message : "");
}

/* The events of kind that ran unchecked, each unobservable and unjudged. */
static int unchecked_events(const struct case_result *result, enum run_event_kind kind)
{
	int count = 0;
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		if (!e->unchecked)
			continue;
		assert_int_equal(e->kind, kind);
		assert_false(e->broke);
		assert_string_equal(e->observed, "unobservable");
		assert_string_equal(e->outcome, OUTCOME_UNSEEN);
		count++;
	}
	return count;
}

static void test_lines_for_other_stacks_are_skipped(void **state)
{
	(void)state;
	assert_string_equal(target_stack(target), "linux");
	struct case_file c;
	struct case_result result;
	run_text("peer c 192.0.2.10:40000\n"
		 "0 app listen 8080\n"
		 "+0 c < S 0:0(0) win 64240 <mss 1460>\n"
		 "{!linux} +0 c > R 0:0(0) win 0\n"
		 "{lwip,gvisor} +0 app accept within 10ms = EAGAIN\n"
		 "{linux} +0 outcome c > S. 0:0(0) ack 1 <mss 1460>\n",
		 -1, &c, &result);
	assert_verdict(&result, VERDICT_PASS);
	/* Every line got past: the three for Linux ran, the two for other stacks were passed over. */
	assert_int_equal(result.steps_run, 5);
	for (int i = 0; i < result.event_count; i++)
		assert_true(result.events[i].step != 2 && result.events[i].step != 3);
	assert_string_equal(result.outcome, "ACCEPT");
	assert_int_equal(result.unchecked, 0);
	assert_null(result.unchecked_reason);
	case_result_free(&result);
	case_free(&c);
}

static void test_counter_the_stack_lacks_is_unchecked(void **state)
{
	(void)state;
	struct case_file c;
	struct case_result result;
	run_text("peer c 192.0.2.10:40000 to 9999\n"
		 "0 c < S 0:0(0) win 64240\n"
		 "+0 outcome c > R. 0:0(0) ack 1 win 0\n"
		 "+0 outcome expect counter TcpExt.NoSuchCounter +1\n"
		 "+0 expect counter NoSuchCounter2 +5\n"
		 "+0 expect counter TcpExt.NoSuchCounter +0\n"
		 "+0 expect counter Tcp.OutRsts +1\n",
		 -1, &c, &result);
	assert_verdict(&result, VERDICT_PASS);
	assert_int_equal(result.unchecked, 3);
	assert_string_equal(result.unchecked_reason, "counter TcpExt.NoSuchCounter: the stack has no such counter; "
						     "counter NoSuchCounter2: the stack has no such counter");
	assert_int_equal(unchecked_events(&result, RUN_EVENT_COUNTER), 3);
	assert_string_equal(result.outcome, "RST/" OUTCOME_UNSEEN);
	case_result_free(&result);
	case_free(&c);
}

/* gVisor's agent answers `state` with EOPNOTSUPP: a wrong state expectation is then unchecked too,
 * which is why every report marks such a pass. */
static void test_states_without_sock_diag_are_unchecked(void **state)
{
	(void)state;
	struct case_file c;
	struct case_result result;
	with_fresh_agent(&stack_without_sock_diag, true);
	run_text("peer c 192.0.2.10:40000\n"
		 "0 app listen 8080\n"
		 "+0 c < S 0:0(0) win 64240 <mss 1460>\n"
		 "+0 c > S. 0:0(0) ack 1 <mss 1460>\n"
		 "+0 c < . 1:1(0) ack 1 win 502\n"
		 "+0 app accept\n"
		 "+0 outcome expect state ESTABLISHED\n"
		 "+0 expect state CLOSE_WAIT timer 1~2\n",
		 -1, &c, &result);
	with_fresh_agent(&stack_without_sock_diag, false);
	assert_verdict(&result, VERDICT_PASS);
	assert_int_equal(result.unchecked, 2);
	assert_string_equal(result.unchecked_reason,
			    "expect state: the stack's socket states cannot be read (EOPNOTSUPP)");
	assert_int_equal(unchecked_events(&result, RUN_EVENT_STATE), 2);
	assert_string_equal(result.outcome, OUTCOME_UNSEEN);
	case_result_free(&result);
	case_free(&c);
}

/* A case whose sysctls are built around the stack's read-only tcp_available_congestion_control. */
static void run_with_sysctls(const char *sysctls, struct case_result *result)
{
	char text[512];
	snprintf(text, sizeof text, "sysctl %s\npeer c 192.0.2.10:40000\n0 app listen 8080\n", sysctls);
	struct case_file c;
	run_text(text, -1, &c, result);
	case_free(&c);
}

static void test_sysctls_the_stack_lacks_or_refuses(void **state)
{
	(void)state;
	struct case_result result;
	run_with_sysctls("net.ipv4.tcp_sack=1 net.ipv4.tcp_no_such_knob=1", &result);
	assert_verdict(&result, VERDICT_SKIP);
	char want[256];
	snprintf(want, sizeof want, "the stack under test (%s) has no sysctl net.ipv4.tcp_no_such_knob",
		 target_label(target));
	assert_string_equal(result.message, want);
	case_result_free(&result);

	/* Read-only even for root (0444); its value is the same in every namespace. */
	char current[SYSCTL_VALUE_MAX] = "";
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control", "r");
	assert_non_null(f);
	assert_non_null(fgets(current, sizeof current, f));
	fclose(f);
	current[strcspn(current, "\n")] = '\0';
	char setting[128];
	snprintf(setting, sizeof setting, "net.ipv4.tcp_available_congestion_control=%s", current);
	for (char *p = strchr(setting, '='); *p; p++)
		if (*p == ' ')
			*p = ',';
	run_with_sysctls(setting, &result);
	assert_verdict(&result, VERDICT_PASS);
	case_result_free(&result);

	run_with_sysctls("net.ipv4.tcp_available_congestion_control=nosuchcc", &result);
	assert_verdict(&result, VERDICT_SKIP);
	snprintf(want, sizeof want, "sysctl net.ipv4.tcp_available_congestion_control is read-only on the stack "
		 "under test (%s; EACCES: it is %s, the case needs nosuchcc)", target_label(target), current);
	assert_string_equal(result.message, want);
	case_result_free(&result);
}

/* The probe itself, on a stack with timestamps turned off: what it reports, and what it leaves. */
static void test_probe_reports_what_the_syn_ack_carried(void **state)
{
	(void)state;
	struct case_file c;
	char *error = NULL;
	const char text[] = "peer c 192.0.2.10:40000\n0 wait\n";
	if (case_parse_text("t.tc", text, strlen(text), &c, &error) < 0)
		fail_msg("%s", error);
	struct target_case tc;
	if (target_case_begin(target, &c, FAMILY_IPV4, &tc, &error) < 0)
		fail_msg("target: %s", error);
	assert_int_equal(agent_sysctl_set(tc.agent, "net.ipv4.tcp_timestamps", "0", &error), 0);

	struct capability_report report;
	/* Twice: the first probe's listener and half-open connection are gone, so the second one's port is free. */
	for (int i = 0; i < 2; i++)
		if (capability_probe(&tc, &c.peers[0], &report, &error) < 0)
			fail_msg("probe %d: %s", i + 1, error);
	assert_false(capability_carried(&report, TCP_OPTION_TIMESTAMP));
	assert_true(capability_carried(&report, TCP_OPTION_SACK_PERMITTED));
	assert_true(capability_carried(&report, TCP_OPTION_WSCALE));
	assert_string_equal(report.offered, "<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>");

	struct requirement timestamps = { .kind = REQUIRE_OPTION, .name = "timestamps", .option = TCP_OPTION_TIMESTAMP };
	struct requirement sack = { .kind = REQUIRE_OPTION, .name = "sack", .option = TCP_OPTION_SACK_PERMITTED };
	char *reason = capability_missing(&report, &timestamps);
	const char want[] = "requires TCP option timestamps: the stack's SYN-ACK to <mss 1460,sackOK,TS val 1 ecr "
			    "0,nop,wscale 7> carried <mss 1460,nop,nop,sackOK,nop,wscale ";
	if (!reason || strncmp(reason, want, strlen(want)) != 0)
		fail_msg("reason: %s", reason ? reason : "(none)");
	free(reason);
	assert_null(capability_missing(&report, &sack));

	struct socket_evidence seen;
	struct ip_address target_ip = ip_address_from_ipv4(c.target_ip), peer_ip = ip_address_from_ipv4(c.peers[0].ip);
	assert_int_equal(agent_socket_state(tc.agent, &target_ip, CAPABILITY_PROBE_PORT, &peer_ip,
					    CAPABILITY_PROBE_SOURCE_PORT, &seen, &error),
			 0);
	assert_int_equal(seen.state, TCP_STATE_NO_SOCKET);
	target_case_end(target, &tc);
	case_free(&c);
}

static void test_require_option_passes_on_linux(void **state)
{
	(void)state;
	struct case_file c;
	struct case_result result;
	run_text("require option timestamps\nrequire option sack\nrequire option wscale\n"
		 "peer c 192.0.2.10:40000\n"
		 "0 app listen 8080\n",
		 -1, &c, &result);
	assert_verdict(&result, VERDICT_PASS);
	case_result_free(&result);
	case_free(&c);
}

/* A probe that gets no SYN-ACK is a broken target, not a stack without the option: a harness ERROR
 * (the environment's fault), neither a SKIP nor a FAIL of the stack's TCP. */
static void test_probe_without_syn_ack_fails(void **state)
{
	(void)state;
	struct case_file c;
	struct case_result result;
	with_fresh_agent(&probe_listener_deaf, true);
	run_text("require option sack\npeer c 192.0.2.10:40000\n0 app listen 8080\n", -1, &c, &result);
	with_fresh_agent(&probe_listener_deaf, false);
	assert_verdict(&result, VERDICT_ERROR);
	assert_int_equal(result.steps_run, 0);
	if (!strstr(result.message, "the stack answered the capability probe's SYN with ") ||
	    !strstr(result.message, " R. ") || !strstr(result.message, "not a SYN-ACK"))
		fail_msg("message: %s", result.message);
	case_result_free(&result);
	case_free(&c);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: run_case needs root (network namespaces)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_for_other_stacks_are_skipped),
		cmocka_unit_test(test_counter_the_stack_lacks_is_unchecked),
		cmocka_unit_test(test_states_without_sock_diag_are_unchecked),
		cmocka_unit_test(test_sysctls_the_stack_lacks_or_refuses),
		cmocka_unit_test(test_probe_reports_what_the_syn_ack_carried),
		cmocka_unit_test(test_require_option_passes_on_linux),
		cmocka_unit_test(test_probe_without_syn_ack_fails),
	};
	return cmocka_run_group_tests(tests, open_target, close_target);
}
