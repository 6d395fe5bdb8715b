/* agent_server.c - the target-side application: performs socket calls on request (agent.h protocol).
 * Every socket it makes is non-blocking and every wait is a poll bounded by the request, so no call can
 * hang the agent; the handle table maps a case's socket names to descriptors. The calls go through an
 * agent_stack table (agent_stack.h); the Linux one, at the end of this file, is agent_serve's. */
#include "agent.h"
#include "agent_stack.h"

#include <arpa/inet.h>
#include <time.h>
#include <linux/errqueue.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent_netns.h"
#include "agent_protocol.h"
#include "clock_watch.h"
#include "error_text.h"
#include "neighbour.h"
#include "observe.h"
#include "symbols.h"
#include "tcp_info_fields.h"
#include "sysctl_file.h"
#include "ts_clock.h"

#define HANDLE_MAX 64
#define SAVED_SYSCTL_MAX 64

struct handle {
	char name[CASE_NAME_MAX];
	int fd; /* the stack's descriptor; -1: slot free */
};

struct server {
	const struct agent_stack *stack;
	struct handle handles[HANDLE_MAX];
	/* Each key's value before this agent first wrote it: put back on reset and at end of input, so
	 * a lab host keeps its own settings even when the harness dies mid-case. */
	struct sysctl_setting saved[SAVED_SYSCTL_MAX];
	int saved_count;
};

static void stamp(struct agent_reply *r)
{
	clock_gettime(CLOCK_REALTIME, &r->when);
}

/* Records a call's outcome; called right after the call so the timestamp is the return time. */
static void done(struct agent_reply *r, int64_t ret, int err)
{
	stamp(r);
	r->ret = ret < 0 ? -1 : ret;
	r->err = ret < 0 ? err : 0;
}

/* The agent itself declines the request (no such handle, table full...); text says why. */
static void refuse(struct agent_reply *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct agent_reply *r, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
	done(r, -1, err);
}

/* A stack-wide op's outcome: err (0 or an errno) with its explanation as text; frees why. */
static void done_why(struct agent_reply *r, int64_t ret, int err, char *why)
{
	if (err && why)
		refuse(r, err, "%s", why);
	else
		done(r, err ? -1 : ret, err);
	free(why);
}

static struct handle *find(struct server *s, const char *name)
{
	for (int i = 0; i < HANDLE_MAX; i++)
		if (s->handles[i].fd >= 0 && strcmp(s->handles[i].name, name) == 0)
			return &s->handles[i];
	return NULL;
}

static struct handle *free_slot(struct server *s)
{
	for (int i = 0; i < HANDLE_MAX; i++)
		if (s->handles[i].fd < 0)
			return &s->handles[i];
	return NULL;
}

static void store(struct handle *slot, const char *name, int fd)
{
	snprintf(slot->name, sizeof slot->name, "%s", name);
	slot->fd = fd;
}

/* The socket under name; NULL after refusing the request when there is none. */
static struct handle *existing(struct server *s, const char *name, struct agent_reply *r)
{
	struct handle *h = find(s, name);
	if (!h)
		refuse(r, EINVAL, "no socket named '%s'", name);
	return h;
}

/* The socket under name, created when the name is new. -1 after filling *r when that fails. */
static int socket_for(struct server *s, const char *name, bool inet6, struct agent_reply *r)
{
	struct handle *h = find(s, name);
	if (h)
		return h->fd;
	struct handle *slot = free_slot(s);
	if (!slot) {
		refuse(r, ENOSPC, "handle table full (%d sockets)", HANDLE_MAX);
		return -1;
	}
	int fd = s->stack->socket(inet6 ? AF_INET6 : AF_INET);
	if (fd < 0) {
		done(r, -1, errno);
		return -1;
	}
	store(slot, name, fd);
	return fd;
}

int agent_stack_wait(const struct agent_stack *stack, int fd, short events, int timeout_ms)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int left = timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int rc = stack->poll(&p, 1, left);
		if (rc > 0)
			return 0;
		if (rc == 0)
			return EAGAIN;
		if (errno != EINTR)
			return errno;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t elapsed_ms = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed_ms >= timeout_ms)
			return EAGAIN;
		left = timeout_ms - (int)elapsed_ms;
	}
}

/* A socket that never connected can poll writable with no pending error (Linux), so getpeername
 * tells "connected" from "nothing happened" (ENOTCONN). */
int agent_stack_connect_outcome(const struct agent_stack *stack, int fd)
{
	int so_error = 0;
	socklen_t len = sizeof so_error;
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof peer;
	if (stack->getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0)
		return errno;
	if (so_error != 0)
		return so_error;
	return stack->getpeername(fd, (struct sockaddr *)&peer, &peer_len) < 0 ? errno : 0;
}

/* Waits for a blocking call's readiness; on a timeout (EAGAIN) or a poll error the reply says so. */
static bool ready_or_reported(struct server *s, int fd, short events, int timeout_ms, struct agent_reply *r)
{
	int err = agent_stack_wait(s->stack, fd, events, timeout_ms);
	if (err)
		done(r, -1, err);
	return err == 0;
}

/* ip:port as a socket of the request's family takes it: an IPv4 address stays v4-mapped for AF_INET6. */
static socklen_t socket_address(bool inet6, const struct ip_address *ip, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	if (inet6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		/* The unspecified address, any: `::`, not ::ffff:0.0.0.0, which binds to IPv4 only. */
		if (!ip_address_is_unspecified(ip))
			memcpy(&sin6->sin6_addr, ip->bytes, 16);
		return sizeof *sin6;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(ip_address_ipv4(ip));
	return sizeof *sin;
}

static void op_socket(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (find(s, q->handle)) {
		refuse(r, EBUSY, "'%s' already names a socket", q->handle);
		return;
	}
	int fd = socket_for(s, q->handle, q->inet6, r);
	if (fd >= 0)
		done(r, fd, 0);
}

/* bind and connect: the handle's socket (made on first use) and the request's address. */
static void address_call(struct server *s, const struct agent_request *q, struct agent_reply *r,
			 int (*call)(int, const struct sockaddr *, socklen_t))
{
	int fd = socket_for(s, q->handle, q->inet6, r);
	if (fd < 0)
		return;
	struct sockaddr_storage address;
	socklen_t length = socket_address(q->inet6, &q->ip, q->port, &address);
	int rc = call(fd, (struct sockaddr *)&address, length);
	done(r, rc, errno);
}

static void op_bind(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	address_call(s, q, r, s->stack->bind);
}

/* `app bind H ...` then `app listen H PORT` must not bind twice; a different port is the stack's
 * business (it says EINVAL). */
static void op_listen(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	int fd = socket_for(s, q->handle, q->inet6, r);
	if (fd < 0)
		return;
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof bound;
	if (s->stack->getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
		done(r, -1, errno);
		return;
	}
	/* sin_port and sin6_port sit at the same offset. */
	uint16_t port = ntohs(((const struct sockaddr_in *)&bound)->sin_port);
	if (port == 0 || port != q->port) {
		static const struct ip_address any;
		socklen_t length = socket_address(q->inet6, &any, q->port, &bound);
		if (s->stack->bind(fd, (struct sockaddr *)&bound, length) < 0) {
			done(r, -1, errno);
			return;
		}
	}
	int rc = s->stack->listen(fd, q->backlog >= 0 ? q->backlog : SOMAXCONN);
	done(r, rc, errno);
}

static void op_accept(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *listener = existing(s, q->from_handle, r);
	if (!listener)
		return;
	if (find(s, q->handle)) {
		refuse(r, EBUSY, "'%s' already names a socket; close it first", q->handle);
		return;
	}
	struct handle *slot = free_slot(s);
	if (!slot) {
		refuse(r, ENOSPC, "handle table full (%d sockets)", HANDLE_MAX);
		return;
	}
	if (!ready_or_reported(s, listener->fd, POLLIN, q->timeout_ms, r))
		return;
	int fd = s->stack->accept(listener->fd);
	done(r, fd, errno);
	if (fd >= 0)
		store(slot, q->handle, fd);
}

/* Non-blocking: EINPROGRESS is the normal answer; `connected` collects the outcome. */
static void op_connect(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	address_call(s, q, r, s->stack->connect);
}

/* EAGAIN: still in progress at the timeout. */
static void op_connected(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	int err = s->stack->connected(h->fd, q->timeout_ms);
	done(r, err ? -1 : 0, err);
}

/* send and recv act on an existing handle with a buffer of q->length bytes: the buffer (free it), or
 * NULL with the refusal in r. */
static char *handle_and_buffer(struct server *s, const struct agent_request *q, struct agent_reply *r,
			       struct handle **h)
{
	*h = existing(s, q->handle, r);
	if (!*h)
		return NULL;
	char *data = malloc(q->length + 1);
	if (!data)
		refuse(r, ENOMEM, "no memory for %u bytes", (unsigned)q->length);
	return data;
}

/* One send of the pattern 'a'..'z'; a partial count or EAGAIN is the stack's answer, not retried.
 * sendto gives the peer's address: with MSG_FASTOPEN it connects, the data in the SYN. timeout_ms > 0:
 * a blocking send (a .pkt's `+0...0.3 write(...)`), made by the stack's own blocking call. */
static void op_send(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (q->op == AGENT_OP_SENDTO && !s->stack->sendto) {
		refuse(r, EOPNOTSUPP, "this stack has no sendto with MSG_FASTOPEN");
		return;
	}
	if (q->timeout_ms > 0 && !s->stack->send_blocking) {
		refuse(r, EOPNOTSUPP, "this stack's agent makes no blocking send");
		return;
	}
	struct handle *h;
	char *data = handle_and_buffer(s, q, r, &h);
	if (!data)
		return;
	for (uint32_t i = 0; i < q->length; i++)
		data[i] = (char)('a' + i % 26);
	int flags = MSG_DONTWAIT | MSG_NOSIGNAL | (q->end_of_record ? MSG_EOR : 0) | (q->fast_open ? MSG_FASTOPEN : 0) |
		    (q->zerocopy ? MSG_ZEROCOPY : 0);
	ssize_t n;
	struct sockaddr_storage address;
	socklen_t length = socket_address(q->inet6, &q->ip, q->port, &address);
	if (q->timeout_ms > 0)
		n = s->stack->send_blocking(h->fd, data, q->length, flags & ~MSG_DONTWAIT,
					    q->op == AGENT_OP_SENDTO ? (struct sockaddr *)&address : NULL, length,
					    q->timeout_ms);
	else if (q->op == AGENT_OP_SENDTO)
		n = s->stack->sendto(h->fd, data, q->length, flags, (struct sockaddr *)&address, length);
	else
		n = s->stack->send(h->fd, data, q->length, flags);
	done(r, n, errno);
	free(data);
}

static void op_recv(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h;
	char *data = handle_and_buffer(s, q, r, &h);
	if (!data)
		return;
	if (ready_or_reported(s, h->fd, POLLIN, q->timeout_ms, r)) {
		ssize_t n = s->stack->recv(h->fd, data, q->length, MSG_DONTWAIT);
		done(r, n, errno);
	}
	free(data);
}

/* One poll of the handle's socket: its revents (POLLERR and POLLHUP come unasked), 0 when the wait ran
 * out first. */
static void op_poll(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	struct pollfd pfd = { h->fd, (short)q->poll_events, 0 };
	int n;
	do
		n = s->stack->poll(&pfd, 1, q->timeout_ms);
	while (n < 0 && errno == EINTR);
	done(r, n < 0 ? -1 : n == 0 ? 0 : pfd.revents, errno);
}

/* One notification of the socket's error queue, once one is there (it polls as POLLERR) or the wait
 * ran out; its fields in the reply's text, as agent_protocol.h words them. */
static void op_errqueue(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!s->stack->read_error_queue) {
		refuse(r, EOPNOTSUPP, "this stack has no error queue (MSG_ZEROCOPY notifications)");
		return;
	}
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	int err = agent_stack_wait(s->stack, h->fd, 0, q->timeout_ms);
	if (err && err != EAGAIN) {
		done(r, -1, err);
		return;
	}
	struct sock_extended_err ee;
	bool found = false;
	int rc = s->stack->read_error_queue(h->fd, &ee, &found);
	done(r, rc, errno);
	if (rc == 0 && found)
		snprintf(r->text, sizeof r->text, "ee_errno=%u ee_origin=%u ee_type=%u ee_code=%u ee_info=%u ee_data=%u",
			 ee.ee_errno, ee.ee_origin, ee.ee_type, ee.ee_code, ee.ee_info, ee.ee_data);
}

static void op_ioctl(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!s->stack->queued_bytes) {
		refuse(r, EOPNOTSUPP, "this stack has no SIOCINQ/SIOCOUTQ");
		return;
	}
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	int bytes = 0;
	int rc = s->stack->queued_bytes(h->fd, q->ioctl_request, &bytes);
	done(r, rc < 0 ? -1 : bytes, errno);
}

static bool has_epoll(const struct server *s, struct agent_reply *r)
{
	if (!s->stack->epoll_create)
		refuse(r, EOPNOTSUPP, "this stack has no epoll");
	return s->stack->epoll_create != NULL;
}

static void op_epoll_create(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!has_epoll(s, r))
		return;
	if (find(s, q->handle)) {
		refuse(r, EBUSY, "'%s' already names a socket", q->handle);
		return;
	}
	struct handle *slot = free_slot(s);
	if (!slot) {
		refuse(r, ENOSPC, "handle table full (%d sockets)", HANDLE_MAX);
		return;
	}
	int fd = s->stack->epoll_create();
	done(r, fd, errno);
	if (fd >= 0)
		store(slot, q->handle, fd);
}

/* The event's data is the socket's slot, so a wait can name its handle. */
static void op_epoll_ctl(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!has_epoll(s, r))
		return;
	struct handle *instance = existing(s, q->handle, r), *socket = instance ? existing(s, q->from_handle, r) : NULL;
	if (!socket)
		return;
	int rc = s->stack->epoll_ctl(instance->fd, q->epoll_ctl_op, socket->fd, q->poll_events,
				     (uint32_t)(socket - s->handles));
	done(r, rc, errno);
}

static void op_epoll_wait(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!has_epoll(s, r))
		return;
	struct handle *instance = existing(s, q->handle, r);
	if (!instance)
		return;
	uint32_t events = 0, data = 0;
	int n = s->stack->epoll_wait(instance->fd, &events, &data, q->timeout_ms);
	done(r, n <= 0 ? n : (int64_t)events, errno);
	if (n > 0 && data < HANDLE_MAX)
		snprintf(r->text, sizeof r->text, "%s", s->handles[data].name);
}

static void op_shutdown(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	int rc = s->stack->shutdown(h->fd, q->shutdown_how);
	done(r, rc, errno);
}

/* The name is freed whatever close says: the descriptor is gone either way. */
static void op_close(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	int rc = s->stack->close(h->fd);
	done(r, rc, errno);
	h->fd = -1;
}

static void op_setsockopt(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	const struct sockopt_symbol *opt = sockopt_by_name(q->option);
	int rc;
	if (opt->value_count == 2) {
		struct linger linger = { .l_onoff = q->values[0], .l_linger = q->values[1] };
		rc = s->stack->setsockopt(h->fd, opt->level, opt->optname, &linger, sizeof linger);
	} else {
		rc = s->stack->setsockopt(h->fd, opt->level, opt->optname, &q->values[0], sizeof q->values[0]);
	}
	done(r, rc, errno);
}

/* SO_ERROR reports the pending error as the errno; a two-value option (SO_LINGER) reports its first
 * value (on/off); every other option its int value. */
static void op_getsockopt(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	const struct sockopt_symbol *opt = sockopt_by_name(q->option);
	union {
		int value;
		struct linger linger;
	} u = { 0 };
	socklen_t len = opt->value_count == 2 ? sizeof u.linger : sizeof u.value;
	if (s->stack->getsockopt(h->fd, opt->level, opt->optname, &u, &len) < 0)
		done(r, -1, errno);
	else if (opt->level == SOL_SOCKET && opt->optname == SO_ERROR)
		done(r, u.value ? -1 : 0, u.value);
	else
		done(r, opt->value_count == 2 ? u.linger.l_onoff : u.value, 0);
}

/* One tcpi_* field of the socket's TCP_INFO as the return value (a .pkt's %{ }% reads them). A stack
 * without TCP_INFO says so with its getsockopt's errno (ENOPROTOOPT). */
static void op_tcp_info(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *h = existing(s, q->handle, r);
	if (!h)
		return;
	unsigned char info[512];
	socklen_t len = sizeof info;
	memset(info, 0, sizeof info);
	uint64_t value;
	if (s->stack->getsockopt(h->fd, IPPROTO_TCP, TCP_INFO, info, &len) < 0)
		done(r, -1, errno);
	else if (!tcp_info_read(q->option, info, len, &value))
		refuse(r, EOPNOTSUPP, "this stack's tcp_info has no %s", q->option);
	else
		done(r, (int64_t)value, 0);
}

/* A stack without sysctls answers ENOENT, so a case's `require sysctl` becomes a SKIP. */
static bool has_sysctls(const struct server *s, struct agent_reply *r)
{
	if (!s->stack->sysctl_read)
		refuse(r, ENOENT, "this stack has no sysctls");
	return s->stack->sysctl_read != NULL;
}

static void op_sysctl_get(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!has_sysctls(s, r))
		return;
	int err = s->stack->sysctl_read(q->key, r->text, sizeof r->text);
	if (err == EMSGSIZE)
		refuse(r, EMSGSIZE, "%s is longer than %zu bytes", q->key, sizeof r->text - 1);
	else
		done(r, err ? -1 : 0, err);
}

static bool saved_already(const struct server *s, const char *key)
{
	for (int i = 0; i < s->saved_count; i++)
		if (strcmp(s->saved[i].key, key) == 0)
			return true;
	return false;
}

/* The original value is kept before the first write, so a key that cannot be restored is never
 * changed. */
static void op_sysctl_set(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!has_sysctls(s, r))
		return;
	bool first_change = !saved_already(s, q->key);
	if (first_change) {
		if (s->saved_count == SAVED_SYSCTL_MAX) {
			refuse(r, ENOSPC, "more than %d sysctls changed; reset first", SAVED_SYSCTL_MAX);
			return;
		}
		struct sysctl_setting *slot = &s->saved[s->saved_count];
		int err = s->stack->sysctl_read(q->key, slot->value, sizeof slot->value);
		if (err) {
			done(r, -1, err);
			return;
		}
		snprintf(slot->key, sizeof slot->key, "%s", q->key);
		s->saved_count++;
	}
	int err = s->stack->sysctl_write(q->key, q->value);
	/* A refused first write changed nothing: there is nothing to put back (gVisor's read-only keys). */
	if (err && first_change)
		s->saved_count--;
	if (err == EPERM)
		refuse(r, EPERM, "the agent (uid %u) lacks the privilege to write it; run it as root",
		       (unsigned)geteuid());
	else
		done(r, err ? -1 : 0, err);
}

/* Newest first, so a key written twice ends at its very first value. Returns the first errno. */
static int restore_sysctls(struct server *s)
{
	int first_err = 0;
	while (s->saved_count > 0) {
		const struct sysctl_setting *old = &s->saved[--s->saved_count];
		int err = s->stack->sysctl_write(old->key, old->value);
		if (err && !first_err)
			first_err = err;
	}
	return first_err;
}

static void close_handles(struct server *s)
{
	for (int i = 0; i < HANDLE_MAX; i++)
		if (s->handles[i].fd >= 0) {
			s->stack->close(s->handles[i].fd);
			s->handles[i].fd = -1;
		}
}

/* Between cases on a long-lived target: the next case starts with no socket and the host's settings;
 * with --netns-per-case in a namespace of its own (text "fresh-netns"), so nothing of the previous
 * case can answer its segments and no purge is needed; family=inet6 makes that namespace run IPv6. */
static void op_reset(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	close_handles(s);
	int err = restore_sysctls(s);
	char *why = NULL;
	if (!err && agent_netns_enabled()) {
		if (agent_netns_fresh(q->inet6, &why) < 0)
			err = errno ? errno : EIO;
		else
			snprintf(r->text, sizeof r->text, "fresh-netns");
	}
	done_why(r, 0, err, why);
}

static bool netns_allowed;

void agent_allow_netns(void)
{
	netns_allowed = true;
}

/* The next case of a worker's agent, in the fresh namespace the path names: the previous case's
 * sockets closed, and its sysctls forgotten rather than put back, since they go with its namespace
 * (a namespace the harness made and throws away). Only an agent the harness forked may do it: a lab
 * host's agent or one under gVisor has no business in the harness's namespaces. */
static void op_netns(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!netns_allowed) {
		refuse(r, EPERM, "only an agent forked by the harness changes namespaces");
		return;
	}
	close_handles(s);
	s->saved_count = 0;
	int fd = open(q->value, O_RDONLY | O_CLOEXEC);
	int err = fd < 0 || setns(fd, CLONE_NEWNET) < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	done(r, err ? -1 : 0, err);
}

/* An IPv6 case's peers on its NOARP link: pinned in the case namespace, never asked for. */
static void op_neigh_add(const struct agent_request *q, struct agent_reply *r)
{
	char *why = NULL;
	int err = agent_netns_neighbour(&q->ip, q->lladdr, &why) < 0 ? errno : 0;
	done_why(r, 0, err ? err : 0, why);
}

/* Text: the state's name and the pending timer in ms (-1: none), e.g. "TIME_WAIT 59873". */
static void op_state(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct socket_evidence seen;
	char *why = NULL;
	int err = s->stack->state(&q->ip, q->port, &q->remote_ip, q->remote_port, &seen, &why);
	if (!err)
		snprintf(r->text, sizeof r->text, "%s %lld", tcp_state_name(seen.state), (long long)seen.timer_ms);
	done_why(r, 0, err, why);
}

/* ret: the counter's value; ENOENT when the stack has no such counter. */
static void op_counter(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!s->stack->counter) {
		refuse(r, ENOENT, "this stack has no counters");
		return;
	}
	int64_t value = 0;
	char *why = NULL;
	int err = s->stack->counter(q->counter, &value, &why);
	done_why(r, value, err, why);
}

/* ret: how many sockets to that peer were destroyed. */
static void op_purge(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (agent_netns_enabled()) {
		refuse(r, EPERM, "purge refused: --netns-per-case gives each case a fresh namespace, no SOCK_DESTROY");
		return;
	}
	int destroyed = 0;
	char *why = NULL;
	int err = s->stack->purge(&q->ip, &destroyed, &why);
	done_why(r, destroyed, err, why);
}

/* ret: how many neighbour entries for ip the host forgot. */
static void op_neigh_flush(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	if (!s->stack->neigh_flush) {
		refuse(r, EOPNOTSUPP, "this stack keeps no host neighbour table");
		return;
	}
	int flushed = 0;
	char *why = NULL;
	int err = s->stack->neigh_flush(&q->ip, &flushed, &why);
	done_why(r, flushed, err, why);
}

/* A storm's server half: every connection is closed as soon as it is accepted, so the stack sends
 * its FIN at once. ret: how many were accepted and closed before count or the timeout. */
static void op_accept_close(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	struct handle *listener = existing(s, q->handle, r);
	if (!listener)
		return;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	uint32_t closed = 0;
	while (closed < q->count) {
		int fd = s->stack->accept(listener->fd);
		if (fd >= 0) {
			s->stack->close(fd);
			closed++;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			done(r, -1, errno);
			return;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left = q->timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
						(now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || agent_stack_wait(s->stack, listener->fd, POLLIN, (int)left) != 0)
			break;
	}
	done(r, closed, 0);
}

/* ret: the TS clock's rate in Hz; ENOENT when the stack cannot tell. */
static void op_tsclock(struct server *s, struct agent_reply *r)
{
	if (!s->stack->ts_clock_hz) {
		refuse(r, ENOENT, "this stack cannot tell its TS clock rate");
		return;
	}
	int hz = 0;
	char *why = NULL;
	int err = s->stack->ts_clock_hz(&hz, &why);
	done_why(r, hz, err, why);
}

/* Whether the machine stood still lately (clock_watch.h): the harness asks after a segment came late. */
static void op_stalls(struct agent_reply *r)
{
	if (!clock_watch_running()) {
		refuse(r, ENOENT, "this agent watches no clock (tcpharness-agent --clock-watch)");
		return;
	}
	int n = clock_watch_recent(r->text, sizeof r->text);
	done(r, n, 0);
}

/* The text names the stack, so a lab report can say which one answered. */
static void op_hello(struct server *s, struct agent_reply *r)
{
	s->stack->hello(r->text, sizeof r->text);
	done(r, AGENT_PROTOCOL_VERSION, 0);
}

static void perform(struct server *s, const struct agent_request *q, struct agent_reply *r)
{
	switch (q->op) {
	case AGENT_OP_SOCKET: op_socket(s, q, r); break;
	case AGENT_OP_BIND: op_bind(s, q, r); break;
	case AGENT_OP_LISTEN: op_listen(s, q, r); break;
	case AGENT_OP_ACCEPT: op_accept(s, q, r); break;
	case AGENT_OP_CONNECT: op_connect(s, q, r); break;
	case AGENT_OP_CONNECTED: op_connected(s, q, r); break;
	case AGENT_OP_SEND:
	case AGENT_OP_SENDTO: op_send(s, q, r); break;
	case AGENT_OP_RECV: op_recv(s, q, r); break;
	case AGENT_OP_SHUTDOWN: op_shutdown(s, q, r); break;
	case AGENT_OP_CLOSE: op_close(s, q, r); break;
	case AGENT_OP_SETSOCKOPT: op_setsockopt(s, q, r); break;
	case AGENT_OP_GETSOCKOPT: op_getsockopt(s, q, r); break;
	case AGENT_OP_SYSCTL_GET: op_sysctl_get(s, q, r); break;
	case AGENT_OP_SYSCTL_SET: op_sysctl_set(s, q, r); break;
	case AGENT_OP_HELLO: op_hello(s, r); break;
	case AGENT_OP_STATE: op_state(s, q, r); break;
	case AGENT_OP_COUNTER: op_counter(s, q, r); break;
	case AGENT_OP_PURGE: op_purge(s, q, r); break;
	case AGENT_OP_RESET: op_reset(s, q, r); break;
	case AGENT_OP_ACCEPT_CLOSE: op_accept_close(s, q, r); break;
	case AGENT_OP_TSCLOCK: op_tsclock(s, r); break;
	case AGENT_OP_NEIGH_FLUSH: op_neigh_flush(s, q, r); break;
	case AGENT_OP_TCP_INFO: op_tcp_info(s, q, r); break;
	case AGENT_OP_NEIGH_ADD: op_neigh_add(q, r); break;
	case AGENT_OP_POLL: op_poll(s, q, r); break;
	case AGENT_OP_ERRQUEUE: op_errqueue(s, q, r); break;
	case AGENT_OP_EPOLL_CREATE: op_epoll_create(s, q, r); break;
	case AGENT_OP_EPOLL_CTL: op_epoll_ctl(s, q, r); break;
	case AGENT_OP_EPOLL_WAIT: op_epoll_wait(s, q, r); break;
	case AGENT_OP_IOCTL: op_ioctl(s, q, r); break;
	case AGENT_OP_NETNS: op_netns(s, q, r); break;
	case AGENT_OP_STALLS: op_stalls(r); break;
	}
}

/* gVisor hands the agent its stdio as non-blocking host descriptors, whatever the harness made them:
 * a read or write that would block waits for the descriptor instead of ending the session. 1 when
 * the call should be retried. */
static int retry_when_ready(int fd, short events)
{
	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN)
		return 0;
	struct pollfd p = { .fd = fd, .events = events };
	return poll(&p, 1, -1) >= 0 || errno == EINTR;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && retry_when_ready(fd, POLLOUT))
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_reply(int out_fd, unsigned id, const struct agent_reply *r)
{
	char line[AGENT_LINE_MAX];
	int len = agent_format_reply(id, r, line, sizeof line);
	return len < 0 ? -1 : write_all(out_fd, line, (size_t)len);
}

/* A request the agent cannot read still gets its one reply: EINVAL, with the reason as text. */
static int serve_line(struct server *s, const char *line, size_t len, int out_fd)
{
	struct agent_request q;
	struct agent_reply r = { 0 };
	char *error = NULL;
	if (agent_parse_request(line, len, &q, &error) < 0) {
		refuse(&r, EINVAL, "%s", error ? error : "unreadable request");
		free(error);
	} else {
		perform(s, &q, &r);
	}
	return send_reply(out_fd, q.id, &r);
}

/* The id of an overlong request, when its first field is one, so the harness can match the refusal. */
static unsigned leading_id(const char *buf, size_t len)
{
	unsigned long long id = 0;
	for (size_t i = 0; i < len && i <= 10; i++) {
		if (buf[i] == ' ')
			return id <= 0xffffffffu ? (unsigned)id : 0;
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
		id = id * 10 + (unsigned)(buf[i] - '0');
	}
	return 0;
}

int agent_serve_stack(int in_fd, int out_fd, const struct agent_stack *stack)
{
	struct server s = { .stack = stack, .saved_count = 0 };
	for (int i = 0; i < HANDLE_MAX; i++)
		s.handles[i].fd = -1;
	char buf[AGENT_LINE_MAX];
	size_t len = 0;
	int status;
	for (;;) {
		char *newline = memchr(buf, '\n', len);
		if (newline) {
			size_t line_len = (size_t)(newline - buf);
			if (serve_line(&s, buf, line_len, out_fd) < 0) {
				status = -1;
				break;
			}
			len -= line_len + 1;
			memmove(buf, newline + 1, len);
			continue;
		}
		if (len == sizeof buf) {
			/* The rest of the line is unread and unbounded: the stream cannot be resynchronised. */
			struct agent_reply r = { 0 };
			refuse(&r, EMSGSIZE, "request longer than %d bytes; closing", AGENT_LINE_MAX - 1);
			send_reply(out_fd, leading_id(buf, len), &r);
			status = -1;
			break;
		}
		ssize_t n = read(in_fd, buf + len, sizeof buf - len);
		if (n < 0 && retry_when_ready(in_fd, POLLIN))
			continue;
		if (n <= 0) {
			status = n == 0 && len == 0 ? 0 : -1;
			break;
		}
		len += (size_t)n;
	}
	close_handles(&s);
	restore_sysctls(&s);
	char *error = NULL;
	if (agent_netns_home(&error) < 0) {
		fprintf(stderr, "tcpharness-agent: %s\n", error);
		status = -1;
	}
	free(error);
	return status;
}

/* ---- Linux: the kernel's sockets, /proc/sys, sock_diag, /proc/net counters ---- */

/* IPV6_V6ONLY off whatever net.ipv6.bindv6only says: the mapped family talks IPv4 through it. */
static int linux_socket(int domain)
{
	int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int off = 0;
	if (fd >= 0 && domain == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int linux_accept(int fd)
{
	return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static int linux_connected(int fd, int timeout_ms)
{
	int err = agent_stack_wait(&agent_stack_linux, fd, POLLOUT, timeout_ms);
	return err ? err : agent_stack_connect_outcome(&agent_stack_linux, fd);
}

/* Reads key's value, whitespace runs (ip_local_port_range's tab, the final newline) made one space
 * as a case writes them. 0, or an errno (EMSGSIZE: longer than size - 1). */
static int linux_sysctl_read(const char *key, char *value, size_t size)
{
	int fd = agent_netns_sysctl_open(key, O_RDONLY);
	if (fd < 0)
		return errno;
	char raw[2 * SYSCTL_VALUE_MAX + 128];
	ssize_t n = read(fd, raw, sizeof raw);
	int err = errno;
	close(fd);
	if (n < 0)
		return err;
	size_t out = 0;
	if ((size_t)n == sizeof raw)
		return EMSGSIZE;
	for (ssize_t i = 0; i < n; i++) {
		bool space = raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n';
		if (space && (out == 0 || value[out - 1] == ' '))
			continue;
		if (out == size - 1)
			return EMSGSIZE;
		value[out++] = space ? ' ' : raw[i];
	}
	if (out > 0 && value[out - 1] == ' ')
		out--;
	value[out] = '\0';
	return 0;
}

/* 0 or an errno. A file its owner may write that refuses an agent not its owner refuses the agent,
 * not the value (an unprivileged lab agent gets EACCES): EPERM then, so that the harness tells a
 * missing privilege from a read-only key (mode 0444 on Linux; gVisor's EACCES to its root). */
static int linux_sysctl_write(const char *key, const char *value)
{
	int fd = agent_netns_sysctl_open(key, O_WRONLY);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		int err = errno;
		struct stat st;
		int readable = agent_netns_sysctl_open(key, O_RDONLY);
		bool owner_may_write = readable >= 0 && fstat(readable, &st) == 0 && (st.st_mode & S_IWUSR) &&
				       st.st_uid != geteuid();
		if (readable >= 0)
			close(readable);
		return owner_may_write ? EPERM : err;
	}
	return sysctl_file_write_fd(fd, value) < 0 ? errno : 0;
}

/* A sock_diag socket per call, so the agent holds nothing between requests. */
static int linux_state(const struct ip_address *local_ip, uint16_t local_port, const struct ip_address *remote_ip,
		       uint16_t remote_port, struct socket_evidence *out, char **why)
{
	struct observer o;
	if (observe_open(-1, &o, why) < 0)
		return EOPNOTSUPP;
	int rc = observe_tcp_socket(&o, local_ip, local_port, remote_ip, remote_port, out, why);
	observe_close(&o);
	return rc < 0 ? EIO : 0;
}

/* Per process, like the agent's namespace (agent_netns.h): the agent is single-threaded. */
static bool sock_destroy_refused;

void agent_refuse_sock_destroy(void)
{
	sock_destroy_refused = true;
}

static int linux_purge(const struct ip_address *remote_ip, int *destroyed, char **why)
{
	struct observer o;
	if (observe_open(-1, &o, why) < 0)
		return EOPNOTSUPP;
	o.refuse_destroy = sock_destroy_refused;
	int rc = observe_destroy_to_remote(&o, remote_ip, destroyed, why);
	observe_close(&o);
	return rc < 0 ? EOPNOTSUPP : 0;
}

static int linux_counter(const char *name, int64_t *value, char **why)
{
	struct counter_snapshot *now = malloc(sizeof *now);
	int err = 0;
	if (!now) {
		err = ENOMEM;
		error_set(why, "no memory for the counters");
	} else if (counters_read(getpid(), now, why) < 0) {
		err = EIO;
	} else if (!counters_get(now, name, value)) {
		err = ENOENT;
		error_set(why, "no counter named %s", name);
	}
	free(now);
	return err;
}

static int linux_ts_clock_hz(int *hz, char **why)
{
	int err = ts_clock_hz(hz);
	if (err)
		error_set(why, "TCP_TIMESTAMP: %s", strerror(err));
	return err;
}

/* The socket blocking for this one call, with SO_SNDTIMEO for its limit, so the kernel's own waits run:
 * a Fast Open connect's (inet_wait_for_connect, whose sk_write_pending lets the handshake's ACK wait
 * for the data, tcp_rcv_synsent_state_process) and the buffer's (sk_stream_wait_memory, which wakes
 * on any room where POLLOUT wants a third of the buffer free). */
static ssize_t linux_send_blocking(int fd, const void *data, size_t length, int flags, const struct sockaddr *address,
				   socklen_t address_length, int timeout_ms)
{
	int status = fcntl(fd, F_GETFL);
	struct timeval limit = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 }, none = { 0, 0 };
	if (status < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0 ||
	    fcntl(fd, F_SETFL, status & ~O_NONBLOCK) < 0)
		return -1;
	ssize_t n = address ? sendto(fd, data, length, flags, address, address_length) : send(fd, data, length, flags);
	int err = errno;
	fcntl(fd, F_SETFL, status);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
	errno = err;
	return n;
}

/* The error queue's next message, without data: its IP_RECVERR or IPV6_RECVERR control message. */
static int linux_read_error_queue(int fd, struct sock_extended_err *out, bool *found)
{
	char control[256];
	struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof control };
	if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -1;
	*found = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		bool recverr = (c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			       (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR);
		if (recverr && c->cmsg_len >= CMSG_LEN(sizeof *out)) {
			memcpy(out, CMSG_DATA(c), sizeof *out);
			*found = true;
		}
	}
	return 0;
}

static int linux_queued_bytes(int fd, unsigned long request, int *bytes)
{
	return ioctl(fd, request, bytes);
}

static int linux_epoll_create(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

static int linux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint32_t data)
{
	struct epoll_event event = { .events = events, .data.u32 = data };
	return epoll_ctl(epfd, op, fd, &event);
}

static int linux_epoll_wait(int epfd, uint32_t *events, uint32_t *data, int timeout_ms)
{
	struct epoll_event event;
	int n;
	do
		n = epoll_wait(epfd, &event, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		*events = event.events;
		*data = event.data.u32;
	}
	return n;
}

static void linux_hello(char *text, size_t size)
{
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(text, size, "%.60s %.60s", u.sysname, u.release);
}

const struct agent_stack agent_stack_linux = {
	.socket = linux_socket,
	.bind = bind,
	.getsockname = getsockname,
	.getpeername = getpeername,
	.listen = listen,
	.accept = linux_accept,
	.connect = connect,
	.connected = linux_connected,
	.send = send,
	.sendto = sendto,
	.send_blocking = linux_send_blocking,
	.recv = recv,
	.read_error_queue = linux_read_error_queue,
	.queued_bytes = linux_queued_bytes,
	.epoll_create = linux_epoll_create,
	.epoll_ctl = linux_epoll_ctl,
	.epoll_wait = linux_epoll_wait,
	.shutdown = shutdown,
	.close = close,
	.setsockopt = setsockopt,
	.getsockopt = getsockopt,
	.poll = poll,
	.sysctl_read = linux_sysctl_read,
	.sysctl_write = linux_sysctl_write,
	.state = linux_state,
	.counter = linux_counter,
	.purge = linux_purge,
	.ts_clock_hz = linux_ts_clock_hz,
	.neigh_flush = neighbour_forget,
	.hello = linux_hello,
};

int agent_serve(int in_fd, int out_fd)
{
	return agent_serve_stack(in_fd, out_fd, &agent_stack_linux);
}
