/* test_observe.c - observe against the real kernel (root): socket states and SOCK_DESTROY over
 * sock_diag, and per-namespace MIB counters, in anonymous namespaces held by a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "observe.h"
#include "symbols.h"

/* 127.0.0.1, held v4-mapped as ip_address.h holds IPv4. */
static const struct ip_address loopback = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 } };
#define LOOPBACK (&loopback)
#define SERVER_PORT 8080

/* The namespace is held by a child so that /proc/<child>/net shows its counters: /proc/self/net
 * follows the thread-group leader, and /proc/thread-self/net the reading thread, not the socket. */
struct sandbox {
	pid_t holder;
	int release_fd;         /* closing it lets the holder exit, and the namespace with it */
	int netns_fd;
	struct observer observer;
};

static int spawn_namespace(struct sandbox *sb)
{
	int ready[2], release[2];
	char byte, path[64];

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(release, O_CLOEXEC) < 0)
		return -1;
	sb->holder = fork();
	if (sb->holder < 0)
		return -1;
	if (sb->holder == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(release[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		while (read(release[0], &byte, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	sb->release_fd = release[1];
	if (read(ready[0], &byte, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	snprintf(path, sizeof path, "/proc/%ld/ns/net", (long)sb->holder);
	sb->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
	return sb->netns_fd < 0 ? -1 : 0;
}

static int socket_in(int netns_fd, int domain, int type)
{
	int saved, fd;

	if (netns_enter(netns_fd, &saved) < 0)
		return -1;
	fd = socket(domain, type | SOCK_CLOEXEC, 0);
	if (netns_leave(saved) < 0)
		abort();
	return fd;
}

static int bring_lo_up(int netns_fd)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket_in(netns_fd, AF_INET, SOCK_DGRAM);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

static int setup_sandbox(void **state)
{
	struct sandbox *sb = calloc(1, sizeof *sb);
	char *error = NULL;

	if (!sb)
		return -1;
	*state = sb;
	sb->observer.diag_fd = -1;
	if (spawn_namespace(sb) < 0 || bring_lo_up(sb->netns_fd) < 0)
		return -1;
	if (observe_open(sb->netns_fd, &sb->observer, &error) < 0) {
		fprintf(stderr, "observe_open: %s\n", error ? error : "?");
		free(error);
		return -1;
	}
	return 0;
}

static int teardown_sandbox(void **state)
{
	struct sandbox *sb = *state;

	observe_close(&sb->observer);
	if (sb->netns_fd > 0)
		close(sb->netns_fd);
	if (sb->release_fd > 0)
		close(sb->release_fd);
	if (sb->holder > 0)
		waitpid(sb->holder, NULL, 0);
	free(sb);
	return 0;
}

static int listen_on(int netns_fd, uint16_t port, int defer_accept_seconds)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket_in(netns_fd, AF_INET, SOCK_STREAM);
	int one = 1;

	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	if (defer_accept_seconds > 0)
		assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_accept_seconds,
					    sizeof defer_accept_seconds), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* Connects to 127.0.0.1:port inside the namespace; *client_port receives the ephemeral port. */
static int connect_to(int netns_fd, uint16_t port, uint16_t *client_port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof addr;
	int fd = socket_in(netns_fd, AF_INET, SOCK_STREAM);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	*client_port = ntohs(addr.sin_port);
	return fd;
}

/* Copies and frees a library error, so a failing assertion's longjmp leaks nothing. */
static void fail_with(const char *what, char *error)
{
	char text[256];

	snprintf(text, sizeof text, "%s: %s", what, error ? error : "?");
	free(error);
	fail_msg("%s", text);
}

static struct socket_evidence evidence_of(struct observer *o, uint16_t local_port, uint16_t remote_port)
{
	char *error = NULL;
	struct socket_evidence evidence = { -1, -1 };

	if (observe_tcp_socket(o, LOOPBACK, local_port, LOOPBACK, remote_port, &evidence, &error) < 0)
		fail_with("observe_tcp_socket", error);
	return evidence;
}

static int state_of(struct observer *o, uint16_t local_port, uint16_t remote_port)
{
	return evidence_of(o, local_port, remote_port).state;
}

/* Loopback segments are processed in softirq context, which may still be running when close()
 * returns; wait up to a second for the state to settle. */
static int wait_for_state(struct observer *o, uint16_t local_port, uint16_t remote_port, int expected)
{
	const struct timespec tick = { 0, 1000000 };
	int state = state_of(o, local_port, remote_port);

	for (int i = 0; i < 1000 && state != expected; i++) {
		nanosleep(&tick, NULL);
		state = state_of(o, local_port, remote_port);
	}
	return state;
}

static void assert_state(struct observer *o, uint16_t local_port, uint16_t remote_port, int expected)
{
	int state = wait_for_state(o, local_port, remote_port, expected);

	if (state != expected)
		fail_msg("127.0.0.1:%u -> 127.0.0.1:%u: expected %s, observed %s", local_port, remote_port,
			 tcp_state_name(expected), tcp_state_name(state));
}

static int destroy(struct observer *o, uint16_t local_port, uint16_t remote_port)
{
	char *error = NULL;
	int rc = observe_destroy_tcp(o, LOOPBACK, local_port, LOOPBACK, remote_port, &error);

	if (rc < 0)
		fail_with("observe_destroy_tcp", error);
	return rc;
}

/* A loopback connection in the sandbox to SERVER_PORT. A test that closes an end itself does so with
 * hang_up, so that close_connection closes only what is left. */
struct connection {
	int listener, client, server;
	uint16_t client_port;
};

/* Listens, connects and accepts; with TCP_DEFER_ACCEPT (defer_accept_seconds above 0) it does not
 * accept, since the server end stays a request socket until data comes. */
static struct connection open_connection(struct sandbox *sb, int defer_accept_seconds)
{
	struct connection c = { .server = -1 };

	c.listener = listen_on(sb->netns_fd, SERVER_PORT, defer_accept_seconds);
	c.client = connect_to(sb->netns_fd, SERVER_PORT, &c.client_port);
	if (defer_accept_seconds == 0) {
		c.server = accept(c.listener, NULL, NULL);
		assert_true(c.server >= 0);
	}
	return c;
}

static void hang_up(int *fd)
{
	close(*fd);
	*fd = -1;
}

static void close_connection(struct connection *c)
{
	int *ends[] = { &c->client, &c->server, &c->listener };

	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
		if (*ends[i] >= 0)
			hang_up(ends[i]);
}

/* SOCK_DESTROY takes the socket local_port -> remote_port, and sock_diag finds it no more. */
static void assert_destroyed(struct observer *o, uint16_t local_port, uint16_t remote_port)
{
	assert_int_equal(destroy(o, local_port, remote_port), 0);
	assert_int_equal(state_of(o, local_port, remote_port), TCP_STATE_NO_SOCKET);
}

static void established_seen_from_both_ends(void **state)
{
	struct sandbox *sb = *state;
	struct connection c = open_connection(sb, 0);

	assert_state(&sb->observer, c.client_port, SERVER_PORT, TCP_ESTABLISHED);
	assert_state(&sb->observer, SERVER_PORT, c.client_port, TCP_ESTABLISHED);
	close_connection(&c);
}

static void active_closer_lands_in_time_wait_until_destroyed(void **state)
{
	struct sandbox *sb = *state;
	struct connection c = open_connection(sb, 0);

	hang_up(&c.client);
	assert_state(&sb->observer, SERVER_PORT, c.client_port, TCP_CLOSE_WAIT);
	hang_up(&c.server);
	assert_state(&sb->observer, c.client_port, SERVER_PORT, TCP_TIME_WAIT);
	assert_state(&sb->observer, SERVER_PORT, c.client_port, TCP_STATE_NO_SOCKET);
	/* The TIME_WAIT timer runs TCP_TIMEWAIT_LEN (60 s) from the final ACK; a gone socket has none. */
	int64_t timer_ms = evidence_of(&sb->observer, c.client_port, SERVER_PORT).timer_ms;
	assert_in_range(timer_ms, 58000, 60000);
	assert_int_equal(evidence_of(&sb->observer, SERVER_PORT, c.client_port).timer_ms, -1);

	assert_destroyed(&sb->observer, c.client_port, SERVER_PORT);
	assert_int_equal(destroy(&sb->observer, c.client_port, SERVER_PORT), 1);
	close_connection(&c);
}

static void a_tuple_that_never_existed_is_none(void **state)
{
	struct sandbox *sb = *state;

	assert_int_equal(state_of(&sb->observer, 40000, SERVER_PORT), TCP_STATE_NO_SOCKET);
	assert_int_equal(destroy(&sb->observer, 40000, SERVER_PORT), 1);
}

/* The orphaned client in FIN_WAIT2 is a timewait socket (tcp_fin_timeout is not above 60 s);
 * sock_diag reports its substate, FIN_WAIT2, not TIME_WAIT. */
static void passive_side_waits_in_close_wait(void **state)
{
	struct sandbox *sb = *state;
	struct connection c = open_connection(sb, 0);

	hang_up(&c.client);
	assert_state(&sb->observer, SERVER_PORT, c.client_port, TCP_CLOSE_WAIT);
	assert_state(&sb->observer, c.client_port, SERVER_PORT, TCP_FIN_WAIT2);

	assert_destroyed(&sb->observer, c.client_port, SERVER_PORT);
	close_connection(&c);
}

/* TCP_DEFER_ACCEPT drops the bare final ACK, so the server side stays a request socket
 * (TCP_NEW_SYN_RECV in the hash); inet_diag reports request sockets as SYN_RECV. */
static void request_socket_reads_as_syn_recv(void **state)
{
	struct sandbox *sb = *state;
	struct connection c = open_connection(sb, 30);

	assert_state(&sb->observer, c.client_port, SERVER_PORT, TCP_ESTABLISHED);
	assert_state(&sb->observer, SERVER_PORT, c.client_port, TCP_SYN_RECV);
	assert_destroyed(&sb->observer, SERVER_PORT, c.client_port);
	close_connection(&c);
}

/* The kernel's exact lookup falls back to the listener on the local port; destroying a connection
 * that does not exist must not take the listener with it. */
static void destroying_a_missing_connection_spares_the_listener(void **state)
{
	struct sandbox *sb = *state;
	uint16_t client_port;
	int listener = listen_on(sb->netns_fd, SERVER_PORT, 0);
	int server;

	assert_int_equal(state_of(&sb->observer, SERVER_PORT, 40000), TCP_STATE_NO_SOCKET);
	assert_int_equal(destroy(&sb->observer, SERVER_PORT, 40000), 1);

	close(connect_to(sb->netns_fd, SERVER_PORT, &client_port));
	server = accept(listener, NULL, NULL);
	assert_true(server >= 0);
	close(server);
	close(listener);
}

static int64_t counter(pid_t pid, const char *name)
{
	struct counter_snapshot *s = malloc(sizeof *s);
	char *error = NULL;
	int64_t value = -1;
	bool found;

	assert_non_null(s);
	if (counters_read(pid, s, &error) < 0) {
		free(s);
		fail_with("counters_read", error);
	}
	found = counters_get(s, name, &value);
	free(s);
	assert_true(found);
	return value;
}

#define CONNECTS 3

static void counters_are_the_namespaces_own(void **state)
{
	struct sandbox *sb = *state;
	struct sandbox other = { .observer.diag_fd = -1 };
	int64_t ns_before, ns_after, other_before, other_after, host_before, host_after;
	int listener, clients[CONNECTS], servers[CONNECTS];
	uint16_t client_port;

	assert_int_equal(spawn_namespace(&other), 0);
	host_before = counter(getpid(), "Tcp.ActiveOpens");
	ns_before = counter(sb->holder, "Tcp.ActiveOpens");
	other_before = counter(other.holder, "ActiveOpens");

	listener = listen_on(sb->netns_fd, SERVER_PORT, 0);
	for (int i = 0; i < CONNECTS; i++) {
		clients[i] = connect_to(sb->netns_fd, SERVER_PORT, &client_port);
		servers[i] = accept(listener, NULL, NULL);
		assert_true(servers[i] >= 0);
	}

	ns_after = counter(sb->holder, "Tcp.ActiveOpens");
	other_after = counter(other.holder, "ActiveOpens");
	host_after = counter(getpid(), "Tcp.ActiveOpens");
	assert_int_equal(ns_before, 0);
	assert_int_equal(ns_after - ns_before, CONNECTS);
	assert_int_equal(other_after - other_before, 0);
	/* Were getpid()'s counters the namespace's, both reads would agree before and after. */
	assert_false(host_before == ns_before && host_after == ns_after);
	/* Every passive open in the namespace shows up there too, and only there. */
	assert_int_equal(counter(sb->holder, "PassiveOpens"), CONNECTS);
	assert_int_equal(counter(other.holder, "PassiveOpens"), 0);

	for (int i = 0; i < CONNECTS; i++) {
		close(clients[i]);
		close(servers[i]);
	}
	close(listener);
	close(other.netns_fd);
	close(other.release_fd);
	waitpid(other.holder, NULL, 0);
}

int main(void)
{
#define SANDBOXED(test) cmocka_unit_test_setup_teardown(test, setup_sandbox, teardown_sandbox)
	const struct CMUnitTest tests[] = {
		SANDBOXED(established_seen_from_both_ends),
		SANDBOXED(active_closer_lands_in_time_wait_until_destroyed),
		SANDBOXED(a_tuple_that_never_existed_is_none),
		SANDBOXED(passive_side_waits_in_close_wait),
		SANDBOXED(request_socket_reads_as_syn_recv),
		SANDBOXED(destroying_a_missing_connection_spares_the_listener),
		SANDBOXED(counters_are_the_namespaces_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
