/* test_agent_lwip.c - tcpharness-agent-lwip against lwIP on a TAP, inside an anonymous network namespace
 * (root): the harness's wire and ARP proxy shake hands with lwIP over the TAP, and the agent reports and
 * purges those connections from lwIP's own PCB lists. Exit 77 (skip) without root or without the binary
 * (TCPHARNESS_AGENT_LWIP, set only when lwIP was found at configure time). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_test_support.h"

#include "agent.h"
#include "arp_proxy.h"
#include "symbols.h"
#include "sysctl_file.h"
#include "wire.h"

#define TAP_NAME "thlw0"
#define LWIP_IP 0xc0000201u /* 192.0.2.1 */
#define PEER_IP 0xc0000202u /* 192.0.2.2 */
static const struct ip_address lwip_address = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } };
static const struct ip_address peer_address = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 2 } };
#define LWIP_PORT 8080
#define PEER_ISN 1000u

static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const char *binary;
static int own_netns = -1;

/* Both ends of the TAP's kernel side for one test: the peer's ARP presence and its TCP segments. */
struct link {
	struct agent agent;
	struct arp_proxy *proxy;
	struct wire *wire;
};

static int ifreq_ioctl(unsigned long request, struct ifreq *ifr)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	int rc = ioctl(sock, request, ifr);
	close(sock);
	return rc;
}

/* persist 1 makes the TAP outlive this descriptor, so each test's agent can attach to it; persist 0
 * (once no agent holds it) deletes it. */
static int tap_persist(int persist)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", TAP_NAME);
	int rc = ioctl(fd, TUNSETIFF, &ifr);
	if (rc == 0)
		rc = ioctl(fd, TUNSETPERSIST, persist);
	close(fd);
	return rc;
}

/* The kernel side stays without addresses, IPv6 off, so the only frames on the TAP are lwIP's and
 * the test's. */
static int make_tap(void **state)
{
	(void)state;
	if (sysctl_file_write("net.ipv6.conf.default.disable_ipv6", "1") < 0 && errno != ENOENT)
		return -1;
	if (tap_persist(1) < 0)
		return -1;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", TAP_NAME);
	if (ifreq_ioctl(SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(SIOCSIFFLAGS, &ifr);
}

static int remove_tap(void **state)
{
	(void)state;
	wire_wait_released();
	if (tap_persist(0) < 0 || if_nametoindex(TAP_NAME) != 0)
		return -1;
	return 0;
}

static struct agent spawn(void)
{
	char command[512];
	snprintf(command, sizeof command, "exec %s --tap %s --ip 192.0.2.1/24", binary, TAP_NAME);
	struct agent agent;
	char *error = NULL;
	if (agent_spawn_command(command, &agent, &error) < 0)
		fail_msg("%s", error);
	return agent;
}

/* The proxy's request teaches lwIP the peer's MAC and brings back lwIP's own. */
static struct link open_link(void)
{
	struct link link = { .agent = spawn() };
	uint32_t peers[] = { PEER_IP };
	uint8_t lwip_mac[6];
	char *error = NULL;
	link.proxy = arp_proxy_start(own_netns, TAP_NAME, peer_mac, LWIP_IP, &error);
	if (!link.proxy)
		fail_msg("%s", error);
	arp_proxy_set_peers(link.proxy, peers, 1);
	if (arp_proxy_announce(link.proxy, lwip_mac, 2000, &error) < 0)
		fail_msg("%s", error);
	link.wire = wire_open(own_netns, TAP_NAME, peer_mac, lwip_mac, false, 0, &error);
	if (!link.wire)
		fail_msg("%s", error);
	return link;
}

static void close_link(struct link *link)
{
	agent_stop(&link->agent);
	wire_close(link->wire);
	arp_proxy_stop(link->proxy);
}

static struct agent_reply call(struct agent *agent, struct app_call c)
{
	struct agent_reply reply;
	char *error = NULL;
	if (agent_call(agent, &c, &reply, &error) < 0)
		fail_msg("agent_call: %s", error);
	return reply;
}

static struct app_call app(enum app_op op, const char *handle)
{
	struct app_call c = { .op = op, .timeout_ns = 1000000000 };
	snprintf(c.handle, sizeof c.handle, "%s", handle);
	return c;
}

static struct app_call on_port(enum app_op op, const char *handle, uint16_t port)
{
	struct app_call c = app(op, handle);
	c.port = port;
	return c;
}

static struct app_call accept_call(const char *handle, const char *from)
{
	struct app_call c = app(APP_ACCEPT, handle);
	snprintf(c.from_handle, sizeof c.from_handle, "%s", from);
	return c;
}

static struct app_call sockopt_call(enum app_op op, const char *handle, const char *option, int value)
{
	struct app_call c = app(op, handle);
	snprintf(c.option, sizeof c.option, "%s", option);
	c.value_count = op == APP_SETSOCKOPT;
	c.values[0] = value;
	return c;
}

static void inject(struct link *link, uint16_t peer_port, uint32_t seq, uint32_t ack, uint8_t flags)
{
	struct segment s = { .src_ip = peer_address, .dst_ip = lwip_address, .src_port = peer_port, .dst_port = LWIP_PORT,
			     .seq = seq, .ack = ack, .flags = flags, .window = 65535 };
	int64_t sent_ns;
	char *error = NULL;
	if (wire_inject(link->wire, &s, &sent_ns, &error) < 0)
		fail_msg("%s", error);
}

/* lwIP's next segment to peer_port within timeout_ms: 1 with *out, 0 when none came. The capture
 * also holds the test's own frames, which are skipped. */
static int from_lwip(struct link *link, uint16_t peer_port, int timeout_ms, struct segment *out)
{
	int64_t deadline = wire_now_ns() + (int64_t)timeout_ms * 1000000;
	struct wire_frame frame;
	char *error = NULL;
	for (;;) {
		int rc = wire_next(link->wire, deadline, &frame, &error);
		if (rc < 0)
			fail_msg("%s", error);
		if (rc == 0)
			return 0;
		if (frame.decoded && ip_address_equal(&frame.segment.src_ip, &lwip_address) && frame.segment.dst_port == peer_port) {
			*out = frame.segment;
			return 1;
		}
	}
}

static struct segment expect_from_lwip(struct link *link, uint16_t peer_port, uint8_t flags)
{
	struct segment s;
	if (!from_lwip(link, peer_port, 2000, &s))
		fail_msg("no segment from lwIP to port %u within 2 s", peer_port);
	if (s.flags != flags)
		fail_msg("lwIP sent flags 0x%02x, want 0x%02x", s.flags, flags);
	return s;
}

static const char *state_of(struct link *link, uint16_t peer_port, int64_t *timer_ms)
{
	struct socket_evidence seen;
	char *error = NULL;
	if (agent_socket_state(&link->agent, &lwip_address, LWIP_PORT, &peer_address, peer_port, &seen, &error) < 0)
		fail_msg("%s", error);
	if (timer_ms)
		*timer_ms = seen.timer_ms;
	return tcp_state_name(seen.state);
}

/* lwIP's core thread takes the segment after the wire has sent it: the state may lag a moment. */
static void await_state(struct link *link, uint16_t peer_port, const char *want)
{
	const char *seen = NULL;
	for (int i = 0; i < 100 && (!seen || strcmp(seen, want) != 0); i++) {
		if (seen)
			usleep(10000);
		seen = state_of(link, peer_port, NULL);
	}
	assert_string_equal(seen, want);
}

static int purge(struct link *link)
{
	int destroyed = -1;
	char *error = NULL;
	if (agent_purge(&link->agent, &peer_address, &destroyed, &error) < 0)
		fail_msg("%s", error);
	return destroyed;
}

/* SYN, SYN-ACK, ACK on lwsn (listening on LWIP_PORT); returns lwIP's ISN. */
static uint32_t handshake(struct link *link, uint16_t peer_port)
{
	inject(link, peer_port, PEER_ISN, 0, TCP_FLAG_SYN);
	struct segment syn_ack = expect_from_lwip(link, peer_port, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(syn_ack.ack, PEER_ISN + 1);
	assert_string_equal(state_of(link, peer_port, NULL), "SYN_RECV");
	inject(link, peer_port, PEER_ISN + 1, syn_ack.seq + 1, TCP_FLAG_ACK);
	await_state(link, peer_port, "ESTABLISHED");
	return syn_ack.seq;
}

static void test_purge_established(void **state)
{
	(void)state;
	struct link link = open_link();
	assert_non_null(strstr(link.agent.stack, "lwIP 2."));
	assert_reply(call(&link.agent, on_port(APP_LISTEN, "lsn", LWIP_PORT)), 0, 0);
	uint32_t isn = handshake(&link, 40000);
	struct agent_reply accepted = call(&link.agent, accept_call("conn", "lsn"));
	assert_true(accepted.ret >= 0 && accepted.err == 0);

	/* tcp_abort: an RST in lwIP's numbers, the socket's next call ECONNABORTED, as SOCK_DESTROY. */
	assert_int_equal(purge(&link), 1);
	struct segment rst = expect_from_lwip(&link, 40000, TCP_FLAG_RST | TCP_FLAG_ACK);
	assert_int_equal(rst.seq, isn + 1);
	assert_string_equal(state_of(&link, 40000, NULL), "NONE");
	struct app_call read_call = app(APP_RECV, "conn");
	read_call.length = 10;
	assert_reply(call(&link.agent, read_call), -1, ECONNABORTED);
	assert_int_equal(purge(&link), 0);
	close_link(&link);
}

static void test_purge_time_wait(void **state)
{
	(void)state;
	struct link link = open_link();
	assert_reply(call(&link.agent, on_port(APP_LISTEN, "lsn", LWIP_PORT)), 0, 0);
	uint32_t isn = handshake(&link, 40001);
	assert_true(call(&link.agent, accept_call("conn", "lsn")).ret >= 0);

	assert_reply(call(&link.agent, app(APP_CLOSE, "conn")), 0, 0);
	expect_from_lwip(&link, 40001, TCP_FLAG_FIN | TCP_FLAG_ACK);
	inject(&link, 40001, PEER_ISN + 1, isn + 2, TCP_FLAG_FIN | TCP_FLAG_ACK);
	expect_from_lwip(&link, 40001, TCP_FLAG_ACK);
	await_state(&link, 40001, "TIME_WAIT");
	/* 2 MSL is 120 s in this build, counted in 500 ms ticks. */
	int64_t timer_ms;
	state_of(&link, 40001, &timer_ms);
	assert_true(timer_ms > 119000 && timer_ms <= 120500);

	/* A TIME_WAIT PCB goes silently. */
	assert_int_equal(purge(&link), 1);
	assert_string_equal(state_of(&link, 40001, NULL), "NONE");
	struct segment unexpected;
	assert_int_equal(from_lwip(&link, 40001, 300, &unexpected), 0);
	close_link(&link);
}

/* What lwIP lacks answers ENOENT; what would hang or mislead it is answered as Linux would. */
static void test_departures_from_linux(void **state)
{
	(void)state;
	struct agent agent = spawn();
	char *error = NULL;
	int64_t value;
	assert_int_equal(agent_sysctl_exists(&agent, "net.ipv4.tcp_rfc1337", &error), 0);
	char text[16];
	assert_error_mentions(agent_sysctl_get(&agent, "net.ipv4.tcp_rfc1337", text, sizeof text, &error), &error,
			      "ENOENT");
	assert_error_mentions(agent_sysctl_set(&agent, "net.ipv4.tcp_rfc1337", "1", &error), &error,
			      "no sysctls");
	assert_int_equal(agent_counter(&agent, "Tcp.OutRsts", &value, &error), 0);

	/* Left to lwIP, the second bind would loop tcp_bound_pcbs and the next one hang the core. */
	assert_reply(call(&agent, on_port(APP_BIND, "b", 9000)), 0, 0);
	assert_reply(call(&agent, on_port(APP_BIND, "b", 9001)), -1, EINVAL);
	assert_reply(call(&agent, on_port(APP_BIND, "b", 9000)), -1, EINVAL);
	assert_reply(call(&agent, on_port(APP_BIND, "c", 9002)), 0, 0);
	assert_reply(call(&agent, on_port(APP_LISTEN, "b", 9000)), 0, 0);

	/* Never connected: not writable in lwIP, yet answered at once, not at the timeout. */
	assert_true(call(&agent, app(APP_SOCKET, "idle")).ret >= 1);
	assert_reply(call(&agent, app(APP_CONNECTED, "idle")), -1, ENOTCONN);

	assert_reply(call(&agent, sockopt_call(APP_SETSOCKOPT, "idle", "SO_REUSEADDR", 1)), 0, 0);
	assert_reply(call(&agent, sockopt_call(APP_GETSOCKOPT, "idle", "SO_REUSEADDR", 0)), 1, 0);
	assert_reply(call(&agent, sockopt_call(APP_SETSOCKOPT, "idle", "SO_KEEPALIVE", 1)), 0, 0);
	assert_reply(call(&agent, sockopt_call(APP_GETSOCKOPT, "idle", "SO_KEEPALIVE", 0)), 1, 0);
	assert_int_equal(agent_reset(&agent, FAMILY_IPV4, &error), 0);
	assert_reply(call(&agent, app(APP_CLOSE, "b")), -1, EINVAL);
	assert_null(error);
	agent_stop(&agent);
}

static void test_eof_ends_agent(void **state)
{
	(void)state;
	struct agent agent = spawn();
	assert_reply(call(&agent, on_port(APP_LISTEN, "lsn", LWIP_PORT)), 0, 0);
	close(agent.fd);
	agent.fd = -1;
	int status = wait_exit(agent.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	agent.pid = -1;
}

/* The binary's exit status for these arguments, its output discarded. */
static int exit_status(const char *tap, const char *ip)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		execl(binary, binary, "--tap", tap, "--ip", ip, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_bad_start(void **state)
{
	(void)state;
	assert_int_equal(exit_status(TAP_NAME, "192.0.2.1"), 2);
	assert_int_equal(exit_status(TAP_NAME, "192.0.2.1/33"), 2);
	assert_int_equal(exit_status("nosuchtap0", "192.0.2.1/24"), 1);
}

int main(void)
{
	binary = getenv("TCPHARNESS_AGENT_LWIP");
	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root for a network namespace and a TAP\n");
		return 77;
	}
	if (!binary || access(binary, X_OK) != 0) {
		fprintf(stderr, "skipped: tcpharness-agent-lwip was not built (no lwIP source at configure time: scripts/lwip-source.sh)\n");
		return 77;
	}
	/* The whole test lives in an anonymous namespace: the TAP and every frame go with it. */
	if (unshare(CLONE_NEWNET) < 0 || (own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "cannot make a network namespace: %s\n", strerror(errno));
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_purge_established),
		cmocka_unit_test(test_purge_time_wait),
		cmocka_unit_test(test_departures_from_linux),
		cmocka_unit_test(test_eof_ends_agent),
		cmocka_unit_test(test_bad_start),
	};
	return cmocka_run_group_tests(tests, make_tap, remove_tap);
}
