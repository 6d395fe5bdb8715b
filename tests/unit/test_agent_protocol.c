/* test_agent_protocol.c - request and reply lines: round trips for every op, and hostile lines refused
 * with a message that names the problem. */
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "agent_protocol.h"

static struct app_call call_of(enum app_op op, const char *handle)
{
	struct app_call call = { .op = op, .timeout_ns = 2000000000 };
	snprintf(call.handle, sizeof call.handle, "%s", handle);
	return call;
}

/* call -> request -> line -> request in family: what the agent reads is what the case said. */
static struct agent_request round_trip_call_in(const struct app_call *call, enum address_family family,
					       const char *want_line)
{
	struct agent_request sent, got;
	char line[AGENT_LINE_MAX];
	char *error = NULL;
	assert_int_equal(agent_request_from_call(42, call, family, &sent, &error), 0);
	int len = agent_format_request(&sent, line, sizeof line, &error);
	assert_true(len > 0);
	assert_int_equal(line[len - 1], '\n');
	assert_string_equal(line, want_line);
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_null(error);
	assert_int_equal(got.id, 42);
	assert_int_equal(got.op, sent.op);
	assert_string_equal(got.handle, call->handle);
	assert_int_equal(got.inet6, sent.inet6);
	return got;
}

static struct agent_request round_trip_call(const struct app_call *call, const char *want_line)
{
	return round_trip_call_in(call, FAMILY_IPV4, want_line);
}

static void test_round_trip_socket_close(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_SOCKET, "s1");
	assert_int_equal(round_trip_call(&call, "42 socket s1\n").op, AGENT_OP_SOCKET);
	call = call_of(APP_CLOSE, "conn");
	assert_int_equal(round_trip_call(&call, "42 close conn\n").op, AGENT_OP_CLOSE);
}

static void test_round_trip_bind(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_BIND, "lsn");
	call.ip = 0xc0000201;
	call.port = 8080;
	struct agent_request got = round_trip_call(&call, "42 bind lsn ip=192.0.2.1 port=8080\n");
	assert_int_equal(ip_address_ipv4(&got.ip), 0xc0000201);
	assert_int_equal(got.port, 8080);

	call.ip = 0;
	got = round_trip_call(&call, "42 bind lsn port=8080\n");
	assert_true(ip_address_is_unspecified(&got.ip));
}

/* The same call in the other families: the address mapped into 2001:db8::/96 (ipv6) or left IPv4 for
 * an AF_INET6 socket (mapped), and the socket asked for as inet6. */
static void test_round_trip_families(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_CONNECT, "c");
	call.ip = 0xc000020a;
	call.port = 8080;
	struct agent_request got = round_trip_call_in(&call, FAMILY_IPV6,
						      "42 connect c ip=2001:db8::c000:20a port=8080 family=inet6\n");
	struct ip_address want = family_address(FAMILY_IPV6, 0xc000020a);
	assert_true(ip_address_equal(&got.ip, &want));
	assert_true(got.inet6);
	got = round_trip_call_in(&call, FAMILY_MAPPED, "42 connect c ip=192.0.2.10 port=8080 family=inet6\n");
	assert_int_equal(ip_address_ipv4(&got.ip), 0xc000020a);
	assert_true(got.inet6);

	call = call_of(APP_LISTEN, "lsn");
	call.port = 8080;
	call.backlog = -1;
	got = round_trip_call_in(&call, FAMILY_IPV6, "42 listen lsn port=8080 family=inet6\n");
	assert_true(got.inet6);

	/* family= belongs to the ops that make a socket, and names only inet6. */
	char *error = NULL;
	const char *line = "7 send c len=1 family=inet6";
	assert_int_equal(agent_parse_request(line, strlen(line), &got, &error), -1);
	free(error);
	error = NULL;
	line = "7 socket c family=inet";
	assert_int_equal(agent_parse_request(line, strlen(line), &got, &error), -1);
	free(error);
}

static void test_round_trip_listen(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_LISTEN, "lsn");
	call.port = 8080;
	call.backlog = 0;
	assert_int_equal(round_trip_call(&call, "42 listen lsn port=8080 backlog=0\n").backlog, 0);
	call.backlog = 7;
	assert_int_equal(round_trip_call(&call, "42 listen lsn port=8080 backlog=7\n").backlog, 7);

	/* Typed by hand without a backlog, a listen gets SOMAXCONN, told apart from a real 0. */
	struct agent_request got;
	char *error = NULL;
	const char *line = "43 listen lsn port=8080";
	assert_int_equal(agent_parse_request(line, strlen(line), &got, &error), 0);
	assert_int_equal(got.backlog, -1);
}

static void test_round_trip_accept(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_ACCEPT, "conn");
	snprintf(call.from_handle, sizeof call.from_handle, "lsn");
	call.timeout_ns = 1500000; /* 1.5 ms waits 2 ms, never less than asked */
	struct agent_request got = round_trip_call(&call, "42 accept conn from=lsn timeout_ms=2\n");
	assert_string_equal(got.from_handle, "lsn");
	assert_int_equal(got.timeout_ms, 2);
}

static void test_round_trip_connect_connected(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_CONNECT, "c");
	call.ip = 0x7f000001;
	call.port = 80;
	struct agent_request got = round_trip_call(&call, "42 connect c ip=127.0.0.1 port=80\n");
	assert_int_equal(ip_address_ipv4(&got.ip), 0x7f000001);
	assert_int_equal(got.port, 80);

	call = call_of(APP_CONNECTED, "c");
	assert_int_equal(round_trip_call(&call, "42 connected c timeout_ms=2000\n").timeout_ms, 2000);
}

static void test_round_trip_send_recv(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_SEND, "conn");
	struct agent_request got;
	call.length = 5;
	assert_int_equal(round_trip_call(&call, "42 send conn len=5\n").length, 5);
	/* A .pkt's span makes it a blocking send, which waits that long. */
	call.span_ns = 300000000;
	call.timeout_ns = 340000000;
	assert_int_equal(round_trip_call(&call, "42 send conn len=5 timeout_ms=340\n").timeout_ms, 340);
	call.span_ns = 0;
	call.end_of_record = true;
	assert_true(round_trip_call(&call, "42 send conn len=5 flags=eor\n").end_of_record);
	/* Flags together: MSG_FASTOPEN|MSG_ZEROCOPY. */
	call.end_of_record = false;
	call.zerocopy = true;
	assert_true(round_trip_call(&call, "42 send conn len=5 flags=zerocopy\n").zerocopy);
	call.end_of_record = true;
	got = round_trip_call(&call, "42 send conn len=5 flags=eor,zerocopy\n");
	assert_true(got.end_of_record && got.zerocopy);
	call.zerocopy = false;
	call = call_of(APP_TCP_INFO, "fd4");
	snprintf(call.option, sizeof call.option, "tcpi_snd_cwnd");
	assert_string_equal(round_trip_call(&call, "42 tcp-info fd4 field=tcpi_snd_cwnd\n").option, "tcpi_snd_cwnd");
	call = call_of(APP_POLL, "fd4");
	call.poll_events = POLLIN | POLLOUT;
	call.timeout_ns = 100000000;
	assert_int_equal(round_trip_call(&call, "42 poll fd4 events=5 timeout_ms=100\n").poll_events, POLLIN | POLLOUT);
	call = call_of(APP_EPOLL_CTL, "fd5");
	snprintf(call.from_handle, sizeof call.from_handle, "fd4");
	call.epoll_ctl_op = EPOLL_CTL_MOD;
	call.poll_events = EPOLLIN | EPOLLET;
	got = round_trip_call(&call, "42 epoll-ctl fd5 from=fd4 ctl=mod events=2147483649\n");
	assert_int_equal(got.epoll_ctl_op, EPOLL_CTL_MOD);
	assert_int_equal(got.poll_events, EPOLLIN | EPOLLET);
	call = call_of(APP_IOCTL, "fd4");
	call.ioctl_request = SIOCOUTQ;
	assert_int_equal(round_trip_call(&call, "42 ioctl fd4 request=siocoutq\n").ioctl_request, SIOCOUTQ);
	call = call_of(APP_RECV, "conn");
	call.length = AGENT_IO_MAX;
	call.timeout_ns = 0;
	got = round_trip_call(&call, "42 recv conn len=1048576 timeout_ms=0\n");
	assert_int_equal(got.length, AGENT_IO_MAX);
	assert_int_equal(got.timeout_ms, 0);
}

static void test_round_trip_shutdown(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_SHUTDOWN, "conn");
	call.shutdown_how = SHUT_WR;
	assert_int_equal(round_trip_call(&call, "42 shutdown conn how=wr\n").shutdown_how, SHUT_WR);
	call.shutdown_how = SHUT_RD;
	assert_int_equal(round_trip_call(&call, "42 shutdown conn how=rd\n").shutdown_how, SHUT_RD);
	call.shutdown_how = SHUT_RDWR;
	assert_int_equal(round_trip_call(&call, "42 shutdown conn how=rdwr\n").shutdown_how, SHUT_RDWR);
}

static void test_round_trip_sockopts(void **state)
{
	(void)state;
	struct app_call call = call_of(APP_SETSOCKOPT, "conn");
	snprintf(call.option, sizeof call.option, "SO_LINGER");
	call.values[0] = 1;
	call.values[1] = 0;
	call.value_count = 2;
	struct agent_request got = round_trip_call(&call, "42 setsockopt conn opt=SO_LINGER v=1 v=0\n");
	assert_int_equal(got.value_count, 2);
	assert_int_equal(got.values[0], 1);
	assert_int_equal(got.values[1], 0);

	snprintf(call.option, sizeof call.option, "TCP_LINGER2");
	call.values[0] = -1;
	call.value_count = 1;
	got = round_trip_call(&call, "42 setsockopt conn opt=TCP_LINGER2 v=-1\n");
	assert_int_equal(got.values[0], -1);

	call = call_of(APP_GETSOCKOPT, "conn");
	snprintf(call.option, sizeof call.option, "SO_ERROR");
	assert_string_equal(round_trip_call(&call, "42 getsockopt conn opt=SO_ERROR\n").option, "SO_ERROR");
}

static void test_round_trip_agent_ops(void **state)
{
	(void)state;
	struct agent_request req = { .id = 7, .op = AGENT_OP_SYSCTL_SET }, got;
	snprintf(req.key, sizeof req.key, "net.ipv4.ip_local_port_range");
	snprintf(req.value, sizeof req.value, "40000 40000");
	char line[AGENT_LINE_MAX];
	char *error = NULL;
	int len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "7 sysctl-set - key=net.ipv4.ip_local_port_range value=40000 40000\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_SYSCTL_SET);
	assert_string_equal(got.handle, "");
	assert_string_equal(got.key, "net.ipv4.ip_local_port_range");
	assert_string_equal(got.value, "40000 40000");

	req = (struct agent_request){ .id = 8, .op = AGENT_OP_SYSCTL_GET };
	snprintf(req.key, sizeof req.key, "net.ipv4.tcp_tw_reuse");
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "8 sysctl-get - key=net.ipv4.tcp_tw_reuse\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_string_equal(got.key, "net.ipv4.tcp_tw_reuse");

	req = (struct agent_request){ .id = 9, .op = AGENT_OP_HELLO };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "9 hello -\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_HELLO);

	req = (struct agent_request){ .id = 10, .op = AGENT_OP_NETNS };
	snprintf(req.value, sizeof req.value, "/proc/4242/fd/7");
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "10 netns - value=/proc/4242/fd/7\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_NETNS);
	assert_string_equal(got.value, "/proc/4242/fd/7");
	assert_null(error);
}

/* The stack's own evidence and upkeep: one line each way, fields back as they went. */
static void test_round_trip_stack_ops(void **state)
{
	(void)state;
	struct agent_request req = { .id = 3, .op = AGENT_OP_STATE, .ip = ip_address_from_ipv4(0xc0000201), .port = 8080,
				     .remote_ip = ip_address_from_ipv4(0xc000020a), .remote_port = 40000 }, got;
	char line[AGENT_LINE_MAX];
	char *error = NULL;
	int len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "3 state - ip=192.0.2.1 port=8080 rip=192.0.2.10 rport=40000\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(ip_address_ipv4(&got.remote_ip), 0xc000020a);
	assert_int_equal(got.remote_port, 40000);
	assert_int_equal(got.port, 8080);

	req = (struct agent_request){ .id = 4, .op = AGENT_OP_COUNTER };
	snprintf(req.counter, sizeof req.counter, "TcpExt.PAWSEstab");
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "4 counter - name=TcpExt.PAWSEstab\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_string_equal(got.counter, "TcpExt.PAWSEstab");

	req = (struct agent_request){ .id = 5, .op = AGENT_OP_PURGE, .ip = ip_address_from_ipv4(0xc000020a) };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "5 purge - ip=192.0.2.10\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(ip_address_ipv4(&got.ip), 0xc000020a);
	line[0] = '\0';
	req.ip = family_address(FAMILY_IPV6, 0xc000020a);
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "5 purge - ip=2001:db8::c000:20a\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_true(ip_address_equal(&got.ip, &req.ip));

	req = (struct agent_request){ .id = 5, .op = AGENT_OP_NEIGH_FLUSH, .ip = ip_address_from_ipv4(0xc000020b) };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "5 neigh-flush - ip=192.0.2.11\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_NEIGH_FLUSH);
	assert_int_equal(ip_address_ipv4(&got.ip), 0xc000020b);

	req = (struct agent_request){ .id = 6, .op = AGENT_OP_RESET };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "6 reset -\n");
	req.inet6 = true;
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "6 reset - family=inet6\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_true(got.inet6);

	req = (struct agent_request){ .id = 9, .op = AGENT_OP_NEIGH_ADD, .ip = family_address(FAMILY_IPV6, 0xc000020a),
				      .lladdr = { 0x02, 0x00, 0xab, 0xCD, 0x02, 0x0a } };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "9 neigh-add - ip=2001:db8::c000:20a lladdr=02:00:ab:cd:02:0a\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_NEIGH_ADD);
	assert_true(ip_address_equal(&got.ip, &req.ip));
	assert_memory_equal(got.lladdr, req.lladdr, 6);

	req = (struct agent_request){ .id = 8, .op = AGENT_OP_TSCLOCK };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "8 tsclock -\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_TSCLOCK);

	req = (struct agent_request){ .id = 10, .op = AGENT_OP_STALLS };
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "10 stalls -\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.op, AGENT_OP_STALLS);

	req = (struct agent_request){ .id = 7, .op = AGENT_OP_ACCEPT_CLOSE, .count = 2000, .timeout_ms = 500 };
	snprintf(req.handle, sizeof req.handle, "srv");
	len = agent_format_request(&req, line, sizeof line, &error);
	assert_string_equal(line, "7 accept-close srv count=2000 timeout_ms=500\n");
	assert_int_equal(agent_parse_request(line, (size_t)len - 1, &got, &error), 0);
	assert_int_equal(got.count, 2000);
	assert_string_equal(got.handle, "srv");
	assert_null(error);
}

/* Each hostile line must be refused with a message containing want. */
static void assert_request_refused(const char *line, size_t len, const char *want)
{
	struct agent_request got;
	char *error = NULL;
	assert_int_equal(agent_parse_request(line, len, &got, &error), -1);
	assert_non_null(error);
	if (!strstr(error, want))
		fail_msg("'%.60s': message '%s' does not mention '%s'", line, error, want);
	free(error);
}
#define REFUSED(line, want) assert_request_refused(line, strlen(line), want)

static void test_request_too_long(void **state)
{
	(void)state;
	char line[AGENT_LINE_MAX + 10];
	memset(line, 'x', sizeof line);
	memcpy(line, "1 socket ", 9);
	assert_request_refused(line, AGENT_LINE_MAX, "longer than 511");
	assert_request_refused(line, sizeof line, "longer than 511");
}

static void test_request_missing_fields(void **state)
{
	(void)state;
	REFUSED("", "id");
	REFUSED("1", "no op");
	REFUSED("1 socket", "no handle");
	REFUSED("1 connect c ip=127.0.0.1", "needs port=");
	REFUSED("1 connect c port=80", "needs ip=");
	REFUSED("1 accept conn timeout_ms=5", "needs from=");
	REFUSED("1 recv conn len=5", "needs timeout_ms=");
	REFUSED("1 setsockopt c opt=SO_LINGER v=1", "takes 2 value(s), got 1");
	REFUSED("1 setsockopt c opt=SO_KEEPALIVE", "needs v=");
	REFUSED("1 sysctl-set - key=net.ipv4.tcp_tw_reuse", "needs value=");
	REFUSED("1 sysctl-set - key=net.ipv4.tcp_tw_reuse value=", "bad sysctl value");
}

static void test_request_bad_numbers(void **state)
{
	(void)state;
	REFUSED("0 hello -", "id");
	REFUSED("4294967296 hello -", "id");
	REFUSED("-1 hello -", "id");
	REFUSED("1x hello -", "id");
	REFUSED("1 bind b port=65536", "bad port");
	REFUSED("1 bind b port=-1", "bad port");
	REFUSED("1 bind b port=+80", "bad port");
	REFUSED("1 bind b port=", "bad port");
	REFUSED("1 bind b ip=1.2.3 port=1", "bad ip");
	REFUSED("1 bind b ip=1.2.3.256 port=1", "bad ip");
	REFUSED("1 send c len=1048577", "bad len");
	REFUSED("1 send c len=99999999999999999999999", "bad len");
	REFUSED("1 recv c len=1 timeout_ms=3600001", "bad timeout_ms");
	REFUSED("1 setsockopt c opt=SO_KEEPALIVE v=2147483648", "bad value");
	REFUSED("1 setsockopt c opt=SO_KEEPALIVE v=1.5", "bad value");
	REFUSED("1 listen l port=1 backlog=-1", "bad backlog");
	REFUSED("1 shutdown c how=both", "bad how");
}

static void test_request_unknown_names(void **state)
{
	(void)state;
	REFUSED("1 frobnicate c", "unknown op 'frobnicate'");
	REFUSED("1 SOCKET c", "unknown op");
	REFUSED("1 send c len=5 color=red", "unknown key 'color'");
	REFUSED("1 close c len=5", "key 'len' does not apply to close");
	REFUSED("1 send c len=5 len=6", "given twice");
	REFUSED("1 setsockopt c opt=SO_LINGER v=1 v=0 v=3", "more than twice");
	REFUSED("1 getsockopt c opt=SO_BOGUS", "unknown socket option 'SO_BOGUS'");
	REFUSED("1 send c lenfive", "not key=value");
	REFUSED("1 socket a.b", "bad handle");
	REFUSED("1 socket -", "bad handle");
	REFUSED("1 socket abcdefghijabcdefghijabcdefghijab", "bad handle");
	REFUSED("1 hello conn", "takes the handle '-'");
	REFUSED("1 accept conn from=a/b timeout_ms=1", "bad handle");
	REFUSED("1 send c len=5 flags=oob", "unknown send flags 'oob'");
	REFUSED("1 recv c len=5 timeout_ms=1 flags=eor", "key 'flags' does not apply to recv");
	REFUSED("1 tcp-info c field=tcpi_bogus", "unknown tcp_info field 'tcpi_bogus'");
	REFUSED("1 tcp-info c", "tcp-info needs field=");
}

static void test_request_refused_stack_ops(void **state)
{
	(void)state;
	REFUSED("1 state - ip=192.0.2.1 port=80 rip=192.0.2.10", "state needs rport=");
	REFUSED("1 state - ip=192.0.2.1 port=80 rip=192.0.2.300 rport=1", "bad rip");
	REFUSED("1 state conn ip=192.0.2.1 port=80 rip=192.0.2.10 rport=1", "takes the handle '-'");
	REFUSED("1 counter - name=Tcp/../x", "bad counter name");
	REFUSED("1 counter - name=", "bad counter name");
	REFUSED("1 purge -", "purge needs ip=");
	REFUSED("1 neigh-flush -", "neigh-flush needs ip=");
	REFUSED("1 neigh-flush h ip=192.0.2.10", "neigh-flush takes the handle '-'");
	REFUSED("1 reset - ip=192.0.2.1", "does not apply to reset");
	REFUSED("1 reset - family=inet4", "bad family");
	REFUSED("1 netns -", "netns needs value=");
	REFUSED("1 netns h value=/proc/1/fd/3", "netns takes the handle '-'");
	REFUSED("1 neigh-add - ip=2001:db8::c000:20a", "neigh-add needs lladdr=");
	REFUSED("1 neigh-add - lladdr=02:00:00:00:02:0a", "neigh-add needs ip=");
	REFUSED("1 neigh-add - ip=2001:db8::1 lladdr=02:00:00:00:02", "bad lladdr");
	REFUSED("1 neigh-add - ip=2001:db8::1 lladdr=02:00:00:00:02:0g", "bad lladdr");
	REFUSED("1 neigh-add - ip=2001:db8::1 lladdr=02-00-00-00-02-0a", "bad lladdr");
	REFUSED("1 neigh-add - ip=2001:db8::1 lladdr=02:00:00:00:02:0a0", "bad lladdr");
	REFUSED("1 accept-close srv count=0 timeout_ms=1", "bad count");
	REFUSED("1 accept-close srv count=65537 timeout_ms=1", "bad count");
	REFUSED("1 accept-close - count=1 timeout_ms=1", "bad handle");
}

static void test_request_refused_sysctl_keys(void **state)
{
	(void)state;
	REFUSED("1 sysctl-get - key=kernel.hostname", "refused sysctl key");
	REFUSED("1 sysctl-get - key=net..ipv4", "refused sysctl key");
	REFUSED("1 sysctl-get - key=net.ipv4/../../kernel", "refused sysctl key");
	REFUSED("1 sysctl-get - key=net.", "refused sysctl key");
	REFUSED("1 sysctl-get - key=net.ipv4.", "refused sysctl key");
	REFUSED("1 sysctl-get - key=NET.ipv4.tcp_tw_reuse", "refused sysctl key");
}

static void test_request_hostile_bytes(void **state)
{
	(void)state;
	assert_request_refused("1 hello -\0x", 11, "byte 0x00 at column 10");
	REFUSED("1 hello -\r", "byte 0x0d");
	REFUSED("1 hello\t-", "byte 0x09");
	REFUSED("1 send c \xff", "byte 0xff");
	REFUSED("1  hello -", "unknown op ''");
	REFUSED("1 send c  len=5", "empty field at column 10");
	REFUSED("1 send c len=5 ", "empty field at column 16");
}

/* The id is kept when the rest is bad, so the agent's EINVAL reply still matches its request. */
static void test_request_refusal_keeps_id(void **state)
{
	(void)state;
	struct agent_request got;
	char *error = NULL;
	assert_int_equal(agent_parse_request("17 frobnicate c", 15, &got, &error), -1);
	assert_int_equal(got.id, 17);
	free(error);
	error = NULL;
	assert_int_equal(agent_parse_request("x hello -", 9, &got, &error), -1);
	assert_int_equal(got.id, 0);
	free(error);
}

static void test_format_request_refuses_bad_fields(void **state)
{
	(void)state;
	char line[AGENT_LINE_MAX];
	char *error = NULL;
	struct agent_request req = { .id = 1, .op = AGENT_OP_SOCKET };
	snprintf(req.handle, sizeof req.handle, "a b");
	assert_int_equal(agent_format_request(&req, line, sizeof line, &error), -1);
	assert_non_null(strstr(error, "bad handle 'a b'"));
	free(error);
	error = NULL;

	struct app_call call = call_of(APP_SETSOCKOPT, "c");
	snprintf(call.option, sizeof call.option, "SO_LINGER");
	call.value_count = 1;
	assert_int_equal(agent_request_from_call(1, &call, FAMILY_IPV4, &req, &error), -1);
	assert_non_null(strstr(error, "SO_LINGER takes 2 value(s), got 1"));
	free(error);
	error = NULL;

	call = call_of(APP_RECV, "c");
	call.timeout_ns = (int64_t)AGENT_TIMEOUT_MAX_MS * 1000000 + 1;
	assert_int_equal(agent_request_from_call(1, &call, FAMILY_IPV4, &req, &error), -1);
	assert_non_null(strstr(error, "timeout"));
	free(error);
	error = NULL;

	req = (struct agent_request){ .id = 1, .op = AGENT_OP_HELLO };
	assert_int_equal(agent_format_request(&req, line, 5, &error), -1);
	assert_non_null(strstr(error, "does not fit"));
	free(error);
}

static void test_reply_round_trips(void **state)
{
	(void)state;
	char line[AGENT_LINE_MAX];
	char *error = NULL;
	unsigned id;
	struct agent_reply got;
	struct agent_reply sent = { .ret = -1, .err = ECONNREFUSED, .when = { 1700000000, 5 } };
	int len = agent_format_reply(3, &sent, line, sizeof line);
	assert_string_equal(line, "3 -1 ECONNREFUSED 1700000000.000000005\n");
	assert_int_equal(agent_parse_reply(line, (size_t)len - 1, &id, &got, &error), 0);
	assert_int_equal(id, 3);
	assert_int_equal(got.ret, -1);
	assert_int_equal(got.err, ECONNREFUSED);
	assert_int_equal(got.when.tv_sec, 1700000000);
	assert_int_equal(got.when.tv_nsec, 5);
	assert_string_equal(got.text, "");

	sent = (struct agent_reply){ .ret = 0, .when = { 1, 999999999 } };
	snprintf(sent.text, sizeof sent.text, "32768 60999");
	len = agent_format_reply(4294967295u, &sent, line, sizeof line);
	assert_string_equal(line, "4294967295 0 - 1.999999999 32768 60999\n");
	assert_int_equal(agent_parse_reply(line, (size_t)len - 1, &id, &got, &error), 0);
	assert_int_equal(id, 4294967295u);
	assert_int_equal(got.err, 0);
	assert_string_equal(got.text, "32768 60999");

	/* TCP_LINGER2 reads back -1 without any error: -1 alone is a value, not a failure. */
	sent = (struct agent_reply){ .ret = -1 };
	len = agent_format_reply(5, &sent, line, sizeof line);
	assert_int_equal(agent_parse_reply(line, (size_t)len - 1, &id, &got, &error), 0);
	assert_int_equal(got.ret, -1);
	assert_int_equal(got.err, 0);

	sent = (struct agent_reply){ .ret = INT64_MAX };
	len = agent_format_reply(6, &sent, line, sizeof line);
	assert_int_equal(agent_parse_reply(line, (size_t)len - 1, &id, &got, &error), 0);
	assert_true(got.ret == INT64_MAX);
	assert_null(error);
}

static void test_format_reply_sanitises_text(void **state)
{
	(void)state;
	char line[AGENT_LINE_MAX];
	struct agent_reply sent = { .ret = -1, .err = EINVAL };
	snprintf(sent.text, sizeof sent.text, "a\nb\x01");
	agent_format_reply(1, &sent, line, sizeof line);
	assert_string_equal(line, "1 -1 EINVAL 0.000000000 a?b?\n");
	assert_int_equal(agent_format_reply(1, &sent, line, 10), -1);
}

static void assert_reply_refused(const char *line, const char *want)
{
	unsigned id;
	struct agent_reply got;
	char *error = NULL;
	assert_int_equal(agent_parse_reply(line, strlen(line), &id, &got, &error), -1);
	assert_non_null(error);
	if (!strstr(error, want))
		fail_msg("'%.60s': message '%s' does not mention '%s'", line, error, want);
	free(error);
}

static void test_reply_malformed(void **state)
{
	(void)state;
	assert_reply_refused("", "id");
	assert_reply_refused("x 0 - 1.000000000", "id");
	assert_reply_refused("1", "return value");
	assert_reply_refused("1 zero - 1.000000000", "return value");
	assert_reply_refused("1 99999999999999999999 - 1.000000000", "return value");
	assert_reply_refused("1 0", "errno");
	assert_reply_refused("1 -1 ENOTANERRNO 1.000000000", "no name for");
	assert_reply_refused("1 -1 E? 1.000000000", "no name for");
	assert_reply_refused("1 0 ECONNREFUSED 1.000000000", "want -1");
	assert_reply_refused("1 0 -", "timestamp");
	assert_reply_refused("1 0 - 1", "timestamp");
	assert_reply_refused("1 0 - 1.5", "timestamp");
	assert_reply_refused("1 0 - 1.0000000000", "timestamp");
	assert_reply_refused("1 0 - .000000000", "timestamp");
	assert_reply_refused("1 0 - 1.00000000x", "timestamp");
	assert_reply_refused("1 0 - 1.000000000 caf\xc3\xa9", "byte 0xc3");

	char line[AGENT_LINE_MAX + 1];
	snprintf(line, sizeof line, "1 0 - 1.000000000 %0400d", 0);
	assert_reply_refused(line, "reply text is 400 bytes");
	memset(line, '1', AGENT_LINE_MAX);
	line[AGENT_LINE_MAX] = '\0';
	assert_reply_refused(line, "longer than 511");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_socket_close),
		cmocka_unit_test(test_round_trip_bind),
		cmocka_unit_test(test_round_trip_families),
		cmocka_unit_test(test_round_trip_listen),
		cmocka_unit_test(test_round_trip_accept),
		cmocka_unit_test(test_round_trip_connect_connected),
		cmocka_unit_test(test_round_trip_send_recv),
		cmocka_unit_test(test_round_trip_shutdown),
		cmocka_unit_test(test_round_trip_sockopts),
		cmocka_unit_test(test_round_trip_agent_ops),
		cmocka_unit_test(test_round_trip_stack_ops),
		cmocka_unit_test(test_request_refused_stack_ops),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_request_missing_fields),
		cmocka_unit_test(test_request_bad_numbers),
		cmocka_unit_test(test_request_unknown_names),
		cmocka_unit_test(test_request_refused_sysctl_keys),
		cmocka_unit_test(test_request_hostile_bytes),
		cmocka_unit_test(test_request_refusal_keeps_id),
		cmocka_unit_test(test_format_request_refuses_bad_fields),
		cmocka_unit_test(test_reply_round_trips),
		cmocka_unit_test(test_format_reply_sanitises_text),
		cmocka_unit_test(test_reply_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
