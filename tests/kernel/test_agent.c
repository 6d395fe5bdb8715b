/* test_agent.c - the agent against the real kernel, inside an anonymous network namespace (root).
 * Drives a full client/server exchange over loopback and checks the agent's lifetime rules. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent_test_support.h"

#include "agent.h"
#include "clock_watch.h"
#include "netns.h"
#include "symbols.h"
#include "wire.h"

static int target_netns = -1;
/* 127.0.0.1, held v4-mapped as ip_address.h holds IPv4. */
static const struct ip_address loopback = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 } };
static struct timespec last_when; /* latest reply timestamp seen in the running test */

/* An anonymous namespace held only by our descriptor: nothing to clean up, nothing on the host touched. */
static int make_namespace(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	target_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(home, CLONE_NEWNET) < 0 || target_netns < 0)
		return -1;
	close(home);

	/* A socket opened inside keeps addressing that namespace's lo after we leave. */
	int saved;
	if (netns_enter(target_netns, &saved) < 0)
		return -1;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (netns_leave(saved) < 0 || sock < 0)
		return -1;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	int rc = ioctl(sock, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0)
		rc = ioctl(sock, SIOCSIFFLAGS, &ifr);
	close(sock);
	return rc;
}

static int drop_namespace(void **state)
{
	(void)state;
	if (target_netns >= 0)
		close(target_netns);
	return 0;
}

static int needs_root(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	last_when = (struct timespec){ 0, 0 };
	return 0;
}

static int64_t ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static struct agent spawn(void)
{
	struct agent agent;
	char *error = NULL;
	if (agent_spawn_local(target_netns, &agent, &error) < 0)
		fail_msg("spawn: %s", error);
	return agent;
}

static struct app_call app(enum app_op op, const char *handle)
{
	struct app_call call = { .op = op, .timeout_ns = 2000000000 };
	snprintf(call.handle, sizeof call.handle, "%s", handle);
	return call;
}

/* Every reply's timestamp lies between our clock readings around the call, and never goes back. */
static struct agent_reply call_agent(struct agent *agent, struct app_call call)
{
	struct timespec before, after;
	struct agent_reply reply;
	char *error = NULL;
	clock_gettime(CLOCK_REALTIME, &before);
	if (agent_call(agent, &call, &reply, &error) < 0)
		fail_msg("agent_call: %s", error);
	clock_gettime(CLOCK_REALTIME, &after);
	assert_true(ns_of(&before) <= ns_of(&reply.when));
	assert_true(ns_of(&reply.when) <= ns_of(&after));
	assert_true(ns_of(&last_when) <= ns_of(&reply.when));
	last_when = reply.when;
	return reply;
}

static struct app_call listen_call(const char *handle, uint16_t port)
{
	struct app_call call = app(APP_LISTEN, handle);
	call.port = port;
	return call;
}

static struct app_call connect_call(const char *handle, uint16_t port)
{
	struct app_call call = app(APP_CONNECT, handle);
	call.ip = 0x7f000001;
	call.port = port;
	return call;
}

static struct app_call accept_call(const char *handle, const char *from)
{
	struct app_call call = app(APP_ACCEPT, handle);
	snprintf(call.from_handle, sizeof call.from_handle, "%s", from);
	return call;
}

static struct app_call sized_call(enum app_op op, const char *handle, uint32_t length, int64_t timeout_ns)
{
	struct app_call call = app(op, handle);
	call.length = length;
	call.timeout_ns = timeout_ns;
	return call;
}

static struct app_call sockopt_call(enum app_op op, const char *handle, const char *option, int count, int v0,
				    int v1)
{
	struct app_call call = app(op, handle);
	snprintf(call.option, sizeof call.option, "%s", option);
	call.value_count = count;
	call.values[0] = v0;
	call.values[1] = v1;
	return call;
}

static void test_agent_runs_in_target_namespace(void **state)
{
	(void)state;
	struct agent agent = spawn();
	char path[64];
	struct stat agent_ns, target_ns, own_ns;
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)agent.pid);
	assert_int_equal(stat(path, &agent_ns), 0);
	assert_int_equal(fstat(target_netns, &target_ns), 0);
	assert_int_equal(stat("/proc/self/ns/net", &own_ns), 0);
	assert_true(agent_ns.st_ino == target_ns.st_ino);
	assert_true(agent_ns.st_ino != own_ns.st_ino);
	agent_stop(&agent);
}

static void test_full_exchange(void **state)
{
	(void)state;
	struct agent agent = spawn();

	assert_reply(call_agent(&agent, listen_call("lsn", 8080)), 0, 0);
	assert_reply(call_agent(&agent, connect_call("cli", 8080)), -1, EINPROGRESS);
	assert_reply(call_agent(&agent, app(APP_CONNECTED, "cli")), 0, 0);
	struct agent_reply accepted = call_agent(&agent, accept_call("conn", "lsn"));
	assert_true(accepted.ret >= 0 && accepted.err == 0);

	assert_reply(call_agent(&agent, sized_call(APP_SEND, "conn", 5, 0)), 5, 0);
	assert_reply(call_agent(&agent, sized_call(APP_RECV, "cli", 5, 1000000000)), 5, 0);
	assert_reply(call_agent(&agent, sized_call(APP_SEND, "cli", 3, 0)), 3, 0);
	assert_reply(call_agent(&agent, sized_call(APP_RECV, "conn", 100, 1000000000)), 3, 0);

	assert_reply(call_agent(&agent, sockopt_call(APP_SETSOCKOPT, "conn", "SO_LINGER", 2, 1, 0)), 0, 0);
	assert_reply(call_agent(&agent, sockopt_call(APP_GETSOCKOPT, "conn", "SO_LINGER", 0, 0, 0)), 1, 0);
	assert_reply(call_agent(&agent, sockopt_call(APP_GETSOCKOPT, "conn", "SO_ERROR", 0, 0, 0)), 0, 0);
	assert_reply(call_agent(&agent, sockopt_call(APP_SETSOCKOPT, "cli", "TCP_KEEPIDLE", 1, 7, 0)), 0, 0);
	assert_reply(call_agent(&agent, sockopt_call(APP_GETSOCKOPT, "cli", "TCP_KEEPIDLE", 0, 0, 0)), 7, 0);

	/* Nothing is in flight: the wait ends at the timeout, and the timestamp says when. */
	struct timespec before, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	struct agent_reply idle = call_agent(&agent, sized_call(APP_RECV, "cli", 5, 300000000));
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_reply(idle, -1, EAGAIN);
	int64_t waited_ms = (ns_of(&after) - ns_of(&before)) / 1000000;
	assert_true(waited_ms >= 300 && waited_ms < 800);

	/* The client closes first: the server reads EOF. */
	assert_reply(call_agent(&agent, app(APP_CLOSE, "cli")), 0, 0);
	assert_reply(call_agent(&agent, sized_call(APP_RECV, "conn", 5, 1000000000)), 0, 0);
	assert_reply(call_agent(&agent, app(APP_CLOSE, "conn")), 0, 0);
	assert_reply(call_agent(&agent, app(APP_CLOSE, "lsn")), 0, 0);

	assert_reply(call_agent(&agent, connect_call("refused", 8081)), -1, EINPROGRESS);
	assert_reply(call_agent(&agent, app(APP_CONNECTED, "refused")), -1, ECONNREFUSED);

	/* Unread, the refusal stays pending until SO_ERROR collects it, once. */
	assert_reply(call_agent(&agent, connect_call("pending", 8082)), -1, EINPROGRESS);
	usleep(50000);
	assert_reply(call_agent(&agent, sockopt_call(APP_GETSOCKOPT, "pending", "SO_ERROR", 0, 0, 0)), -1,
		     ECONNREFUSED);
	assert_reply(call_agent(&agent, sockopt_call(APP_GETSOCKOPT, "pending", "SO_ERROR", 0, 0, 0)), 0, 0);

	/* A socket that never connected is writable with no error: still not "connected". */
	struct agent_reply idle_socket = call_agent(&agent, app(APP_SOCKET, "idle"));
	assert_true(idle_socket.ret >= 0 && idle_socket.err == 0);
	assert_reply(call_agent(&agent, app(APP_CONNECTED, "idle")), -1, ENOTCONN);

	char value[64];
	char *error = NULL;
	assert_int_equal(agent_sysctl_get(&agent, "net.ipv4.tcp_tw_reuse", value, sizeof value, &error), 0);
	assert_string_equal(value, "2"); /* a fresh namespace's default */
	assert_int_equal(agent_sysctl_set(&agent, "net.ipv4.tcp_tw_reuse", "1", &error), 0);
	assert_int_equal(agent_sysctl_get(&agent, "net.ipv4.tcp_tw_reuse", value, sizeof value, &error), 0);
	assert_string_equal(value, "1");
	assert_int_equal(agent_sysctl_get(&agent, "net.ipv4.ip_local_port_range", value, sizeof value, &error), 0);
	assert_string_equal(value, "32768 60999"); /* the kernel's tab travels as one space */
	assert_null(error);

	agent_stop(&agent);
}

static void test_refusals(void **state)
{
	(void)state;
	struct agent agent = spawn();

	struct agent_reply unknown = call_agent(&agent, app(APP_CLOSE, "nosuch"));
	assert_reply(unknown, -1, EINVAL);
	assert_non_null(strstr(unknown.text, "nosuch"));

	assert_reply(call_agent(&agent, listen_call("lsn", 8090)), 0, 0);
	assert_reply(call_agent(&agent, connect_call("cli", 8090)), -1, EINPROGRESS);
	struct agent_reply taken = call_agent(&agent, app(APP_SOCKET, "taken"));
	assert_true(taken.ret >= 0 && taken.err == 0);
	assert_reply(call_agent(&agent, accept_call("taken", "lsn")), -1, EBUSY);
	assert_reply(call_agent(&agent, app(APP_SOCKET, "taken")), -1, EBUSY);
	assert_reply(call_agent(&agent, accept_call("conn", "nosuch")), -1, EINVAL);
	assert_reply(call_agent(&agent, listen_call("lsn2", 8090)), -1, EADDRINUSE);

	char value[2];
	char *error = NULL;
	assert_error_mentions(agent_sysctl_get(&agent, "kernel.hostname", value, sizeof value, &error), &error,
			      "refused sysctl key");
	assert_error_mentions(agent_sysctl_get(&agent, "net.ipv4.no_such_knob", value, sizeof value, &error),
			      &error, "ENOENT");
	assert_error_mentions(agent_sysctl_get(&agent, "net.ipv4.tcp_fin_timeout", value, sizeof value, &error),
			      &error, "does not fit");
	struct app_call bad_handle = app(APP_CLOSE, "two words");
	struct agent_reply reply;
	assert_error_mentions(agent_call(&agent, &bad_handle, &reply, &error), &error, "bad handle");

	agent_stop(&agent);
}

/* Reads one line from fd within 2 s; returns its length, 0 at the end of the stream. An AF_UNIX peer
 * that closes with our bytes unread ends it with ECONNRESET rather than EOF. */
static size_t read_raw_line(int fd, char *line, size_t size)
{
	size_t len = 0;
	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 2000), 1);
		ssize_t n = read(fd, line + len, 1);
		assert_true(n >= 0 || errno == ECONNRESET);
		if (n <= 0 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	return len;
}

static void write_raw(int fd, const char *data, size_t len)
{
	assert_int_equal(write(fd, data, len), (ssize_t)len);
}

/* What a remote agent could be sent by a confused or hostile harness: one reply per line, then a
 * clean refusal and a closed stream for a line with no end. */
static void test_hostile_stream(void **state)
{
	(void)state;
	struct agent agent = spawn();
	char line[1024];
	write_raw(agent.fd, "garbage\n", 8);
	read_raw_line(agent.fd, line, sizeof line);
	assert_true(strncmp(line, "0 -1 EINVAL ", 12) == 0);
	write_raw(agent.fd, "5 frobnicate x\n6 hello -\n", 25);
	read_raw_line(agent.fd, line, sizeof line);
	assert_true(strncmp(line, "5 -1 EINVAL ", 12) == 0);
	assert_non_null(strstr(line, "unknown op 'frobnicate'"));
	read_raw_line(agent.fd, line, sizeof line);
	assert_true(strncmp(line, "6 2 - ", 6) == 0); /* AGENT_PROTOCOL_VERSION */
	assert_non_null(strstr(line, " Linux "));

	char overlong[600];
	memset(overlong, 'x', sizeof overlong);
	memcpy(overlong, "9 send c ", 9);
	write_raw(agent.fd, overlong, sizeof overlong);
	read_raw_line(agent.fd, line, sizeof line);
	assert_true(strncmp(line, "9 -1 EMSGSIZE ", 14) == 0);
	assert_int_equal(read_raw_line(agent.fd, line, sizeof line), 0);

	int status = wait_exit(agent.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	agent.pid = -1;
	agent_stop(&agent);
}

static void test_stop_leaves_no_child(void **state)
{
	(void)state;
	struct agent agent = spawn();
	pid_t pid = agent.pid;
	agent_stop(&agent);
	assert_int_equal(agent.pid, -1);
	assert_int_equal(agent.fd, -1);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	agent_stop(&agent);

	struct agent never = { .pid = -1, .fd = -1 };
	agent_stop(&never);
	struct agent_reply reply;
	char *error = NULL;
	struct app_call hello_less = app(APP_CLOSE, "x");
	assert_error_mentions(agent_call(&never, &hello_less, &reply, &error), &error, "not running");
}

static void test_stream_close_ends_agent(void **state)
{
	(void)state;
	struct agent agent = spawn();
	assert_reply(call_agent(&agent, listen_call("lsn", 8100)), 0, 0);
	close(agent.fd);
	agent.fd = -1;
	int status = wait_exit(agent.pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	agent.pid = -1;
}

static void assert_sysctl(struct agent *agent, const char *key, const char *want)
{
	char value[64];
	char *error = NULL;
	if (agent_sysctl_get(agent, key, value, sizeof value, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(value, want);
}

/* A lab host must be left as it was: reset, and a vanished harness (EOF), put back every sysctl the
 * agent changed, to its value before the first change. */
static void test_sysctls_restored(void **state)
{
	(void)state;
	struct agent agent = spawn();
	char *error = NULL;
	assert_int_equal(agent_sysctl_set(&agent, "net.ipv4.tcp_fin_timeout", "7", &error), 0);
	assert_int_equal(agent_sysctl_set(&agent, "net.ipv4.tcp_fin_timeout", "9", &error), 0);
	assert_int_equal(agent_sysctl_set(&agent, "net.ipv4.ip_local_port_range", "40000 40000", &error), 0);
	assert_sysctl(&agent, "net.ipv4.tcp_fin_timeout", "9");
	assert_int_equal(agent_reset(&agent, FAMILY_IPV4, &error), 0);
	assert_sysctl(&agent, "net.ipv4.tcp_fin_timeout", "60");
	assert_sysctl(&agent, "net.ipv4.ip_local_port_range", "32768 60999");

	/* Host-wide keys are read-only in a namespace: the refused write leaves nothing to restore. */
	assert_int_equal(agent_sysctl_set(&agent, "net.core.rmem_max", "4096", &error), -1);
	free(error);
	error = NULL;
	assert_int_equal(agent_reset(&agent, FAMILY_IPV4, &error), 0);

	assert_int_equal(agent_sysctl_set(&agent, "net.ipv4.tcp_fin_timeout", "5", &error), 0);
	agent_stop(&agent);
	agent = spawn();
	assert_sysctl(&agent, "net.ipv4.tcp_fin_timeout", "60");
	assert_null(error);
	agent_stop(&agent);
}

/* States, counters, purge and accept-close, read and done where the stack runs. */
static void test_stack_evidence(void **state)
{
	(void)state;
	struct agent agent = spawn();
	char *error = NULL;
	int64_t opens_before = 0, opens_after = 0;
	assert_int_equal(agent_counter(&agent, "Tcp.ActiveOpens", &opens_before, &error), 1);
	assert_int_equal(agent_counter(&agent, "TcpExt.NoSuchCounter", &opens_after, &error), 0);

	assert_reply(call_agent(&agent, listen_call("lsn", 8090)), 0, 0);
	assert_true(call_agent(&agent, app(APP_SOCKET, "cli")).ret >= 0);
	assert_reply(call_agent(&agent, sockopt_call(APP_SETSOCKOPT, "cli", "SO_REUSEADDR", 1, 1, 0)), 0, 0);
	struct app_call bind = app(APP_BIND, "cli");
	bind.port = 45000;
	assert_reply(call_agent(&agent, bind), 0, 0);
	assert_reply(call_agent(&agent, connect_call("cli", 8090)), -1, EINPROGRESS);
	assert_reply(call_agent(&agent, app(APP_CONNECTED, "cli")), 0, 0);
	assert_int_equal(agent_counter(&agent, "Tcp.ActiveOpens", &opens_after, &error), 1);
	assert_int_equal(opens_after - opens_before, 1);

	struct socket_evidence seen;
	assert_int_equal(agent_socket_state(&agent, &loopback, 45000, &loopback, 8090, &seen, &error), 0);
	assert_int_equal(seen.state, 1 /* TCP_ESTABLISHED */);

	/* accept-close makes the server the first to close: its side ends in TIME_WAIT. */
	int64_t closed = 0;
	assert_int_equal(agent_accept_close(&agent, "lsn", 1, 1000, &closed, &error), 0);
	assert_int_equal(closed, 1);
	assert_reply(call_agent(&agent, app(APP_CLOSE, "cli")), 0, 0);
	usleep(50000);
	assert_int_equal(agent_socket_state(&agent, &loopback, 8090, &loopback, 45000, &seen, &error), 0);
	assert_string_equal(tcp_state_name(seen.state), "TIME_WAIT");
	assert_true(seen.timer_ms > 55000 && seen.timer_ms <= 60000);

	int destroyed = 0;
	assert_int_equal(agent_purge(&agent, &loopback, &destroyed, &error), 0);
	assert_true(destroyed >= 1);
	assert_int_equal(agent_socket_state(&agent, &loopback, 8090, &loopback, 45000, &seen, &error), 0);
	assert_string_equal(tcp_state_name(seen.state), "NONE");
	assert_null(error);
	agent_stop(&agent);
}

/* Runs a shell command inside the agent's namespace; its exit status. */
static int in_target_namespace(const char *command)
{
	char line[1024];
	snprintf(line, sizeof line, "nsenter --net=/proc/%d/fd/%d sh -c '%s' >/dev/null 2>&1", (int)getpid(),
		 target_netns, command);
	return system(line);
}

/* neigh-flush deletes the host's neighbour entries for one address on every interface, and no other. */
static void test_neigh_flush(void **state)
{
	(void)state;
	assert_int_equal(in_target_namespace("ip link add thnf0 type veth peer name thnf1 && ip link set thnf0 up && "
					     "ip link set thnf1 up && "
					     "ip neigh replace 192.0.2.10 lladdr 02:00:00:00:00:01 dev thnf0 && "
					     "ip neigh replace 192.0.2.10 lladdr 02:00:00:00:00:01 dev thnf1 && "
					     "ip neigh replace 192.0.2.11 lladdr 02:00:00:00:00:02 dev thnf0"),
			 0);
	struct agent agent = spawn();
	char *error = NULL;
	int flushed = -1;
	struct ip_address peer = ip_address_from_ipv4(0xc000020a);
	assert_int_equal(agent_neigh_flush(&agent, &peer, &flushed, &error), 0);
	assert_int_equal(flushed, 2);
	assert_int_equal(agent_neigh_flush(&agent, &peer, &flushed, &error), 0);
	assert_int_equal(flushed, 0);
	assert_null(error);
	agent_stop(&agent);
	assert_int_equal(in_target_namespace("ip -4 neigh show 192.0.2.10 | grep -q ."), 256);
	assert_int_equal(in_target_namespace("ip -4 neigh show 192.0.2.11 | grep -q 02:00:00:00:00:02"), 0);
	assert_int_equal(in_target_namespace("ip link del thnf0"), 0);
}

/* A lab agent is a command (`ssh lab tcpharness-agent`): here the real binary under nsenter. */
static void test_command_agent(void **state)
{
	(void)state;
	const char *binary = getenv("TCPHARNESS_AGENT");
	if (!binary)
		skip();
	char command[512];
	snprintf(command, sizeof command, "exec nsenter --net=/proc/%d/fd/%d %s", (int)getpid(), target_netns, binary);
	struct agent agent;
	char *error = NULL;
	if (agent_spawn_command(command, &agent, &error) < 0)
		fail_msg("%s", error);
	assert_non_null(strstr(agent.stack, "Linux"));
	assert_sysctl(&agent, "net.ipv4.tcp_fin_timeout", "60");
	agent_stop(&agent);
	assert_int_equal(agent.pid, -1);

	assert_int_equal(agent_spawn_command("exit 3", &agent, &error), -1);
	assert_non_null(strstr(error, "did not start"));
	free(error);
}

/* --clock-watch: an agent stopped for 300 ms (as a host stops a guest's vCPU) says it stood still at
 * least that long less one watch period (and the reply's rounding); an agent without the watch says it
 * has none. */
static void test_clock_watch(void **state)
{
	(void)state;
	const char *binary = getenv("TCPHARNESS_AGENT");
	if (!binary)
		skip();
	struct agent agent;
	char *error = NULL;
	char stalls[AGENT_LINE_MAX];
	if (agent_spawn_local(target_netns, &agent, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(agent_stalls(&agent, stalls, sizeof stalls, &error), 0);
	agent_stop(&agent);

	char command[512];
	snprintf(command, sizeof command, "exec nsenter --net=/proc/%d/fd/%d %s --clock-watch", (int)getpid(),
		 target_netns, binary);
	if (agent_spawn_command(command, &agent, &error) < 0)
		fail_msg("%s", error);
	int64_t stopped_at = wire_now_ns();
	assert_int_equal(kill(agent.pid, SIGSTOP), 0);
	usleep(300000);
	assert_int_equal(kill(agent.pid, SIGCONT), 0);
	int64_t resumed_at = wire_now_ns();
	assert_int_equal(agent_stalls(&agent, stalls, sizeof stalls, &error), 1);
	int64_t longest = 0;
	int64_t stalled = clock_watch_stalled_between(stalls, wire_now_ns(), stopped_at, resumed_at, &longest);
	/* The stall begins at the first due time after the stop (within one period); the reply's whole
	 * milliseconds lose up to one on each end. */
	int64_t least = 300000000LL - CLOCK_WATCH_PERIOD_NS - 2000000LL;
	if (stalled < least || longest < least)
		fail_msg("stopped 300 ms, but the watch says '%s': %lld ns, longest %lld", stalls, (long long)stalled,
			 (long long)longest);
	agent_stop(&agent);
}

static void test_spawn_outside_a_namespace_fails(void **state)
{
	(void)state;
	int not_a_namespace = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(not_a_namespace >= 0);
	struct agent agent;
	char *error = NULL;
	int rc = agent_spawn_local(not_a_namespace, &agent, &error);
	close(not_a_namespace);
	assert_int_equal(agent.pid, -1);
	assert_int_equal(agent.fd, -1);
	assert_error_mentions(rc, &error, "could not enter the target network namespace");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_agent_runs_in_target_namespace, needs_root),
		cmocka_unit_test_setup(test_full_exchange, needs_root),
		cmocka_unit_test_setup(test_refusals, needs_root),
		cmocka_unit_test_setup(test_hostile_stream, needs_root),
		cmocka_unit_test_setup(test_stop_leaves_no_child, needs_root),
		cmocka_unit_test_setup(test_stream_close_ends_agent, needs_root),
		cmocka_unit_test_setup(test_spawn_outside_a_namespace_fails, needs_root),
		cmocka_unit_test_setup(test_sysctls_restored, needs_root),
		cmocka_unit_test_setup(test_stack_evidence, needs_root),
		cmocka_unit_test_setup(test_neigh_flush, needs_root),
		cmocka_unit_test_setup(test_command_agent, needs_root),
		cmocka_unit_test_setup(test_clock_watch, needs_root),
	};
	return cmocka_run_group_tests(tests, make_namespace, drop_namespace);
}
