/* observe.c - see observe.h. Socket states and SOCK_DESTROY over sock_diag (inet_diag). */
#include "observe.h"

#include "error_text.h"
#include "ip_address.h"
#include "netns.h"
#include "symbols.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* strerrorname_np/strerrordesc_np return constant strings, so parallel workers never race on a
 * shared strerror buffer. */
static const char *errno_text(int err, char *buf, size_t size)
{
	const char *name = strerrorname_np(err);
	const char *desc = strerrordesc_np(err);

	snprintf(buf, size, "%s (%s)", name ? name : "E?", desc ? desc : "unknown error");
	return buf;
}

struct tuple {
	uint8_t family;                 /* what to ask: AF_INET for IPv4 addresses, else AF_INET6 */
	struct ip_address local_ip, remote_ip;
	uint16_t local_port, remote_port;
};

static const char *tuple_text(const struct tuple *t, char *buf, size_t size)
{
	char local[IP_ADDRESS_TEXT_MAX], remote[IP_ADDRESS_TEXT_MAX];
	snprintf(buf, size, "%s:%u -> %s:%u", ip_address_format(&t->local_ip, local), t->local_port,
		 ip_address_format(&t->remote_ip, remote), t->remote_port);
	return buf;
}

/* An inet_diag address as held: 4 bytes for AF_INET, 16 for AF_INET6 (a v4-mapped one reads as IPv4). */
static struct ip_address diag_address(uint8_t family, const uint32_t words[4])
{
	struct ip_address a;
	if (family == AF_INET)
		return ip_address_from_ipv4(ntohl(words[0]));
	memcpy(a.bytes, words, 16);
	return a;
}

static void put_diag_address(uint8_t family, const struct ip_address *a, uint32_t words[4])
{
	if (family == AF_INET)
		words[0] = htonl(ip_address_ipv4(a));
	else
		memcpy(words, a->bytes, 16);
}

int observe_open(int netns_fd, struct observer *out, char **error)
{
	int saved = -1, fd, err;

	out->diag_fd = -1;
	out->seq = 0;
	out->refuse_destroy = false;
	if (netns_fd >= 0 && netns_enter(netns_fd, &saved) < 0) {
		err = errno;
		return error_set(error, "observe: cannot enter the target namespace: %s", strerror(err));
	}
	/* The kernel autobinds a port id on the first send. Plain netlink, no libmnl: the agent that
	 * reads states on a VM target is a static binary, and Debian ships no static libmnl. */
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	err = errno;
	if (saved >= 0 && netns_leave(saved) < 0) {
		int leave_err = errno;
		if (fd >= 0)
			close(fd);
		return error_set(error, "observe: cannot return from the target namespace: %s",
			    strerror(leave_err));
	}
	if (fd < 0)
		return error_set(error, "observe: NETLINK_SOCK_DIAG socket: %s", strerror(err));
	out->diag_fd = fd;
	return 0;
}

void observe_close(struct observer *o)
{
	if (o->diag_fd >= 0)
		close(o->diag_fd);
	o->diag_fd = -1;
}

/* One reply datagram holds at most one inet_diag_msg with its attributes; 8 KiB is the kernel's own
 * page-sized answer limit with room to spare. */
#define DIAG_BUFFER_SIZE 8192

struct found_socket {
	const struct tuple *asked;
	bool exists;
	int state;
	int64_t timer_ms;
	uint32_t cookie[2];
};

/* Reads one answer to an exact lookup: the socket's inet_diag_msg, or NLMSG_ERROR. Every length is
 * checked before use: this is kernel input. Returns 0, or -1 with errno (ENOENT: no such socket). */
static int read_found(const struct nlmsghdr *nlh, size_t len, uint32_t seq, struct found_socket *found)
{
	if (!NLMSG_OK(nlh, len) || nlh->nlmsg_seq != seq) {
		errno = EBADMSG;
		return -1;
	}
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof *e)) {
			errno = EBADMSG;
			return -1;
		}
		errno = -e->error;
		return e->error ? -1 : 0;
	}
	const struct inet_diag_msg *msg = NLMSG_DATA(nlh);
	if (!found) {
		errno = EBADMSG;
		return -1;
	}
	const struct tuple *t = found->asked;
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < NLMSG_LENGTH(sizeof *msg) ||
	    (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6) ||
	    ntohs(msg->id.idiag_sport) != t->local_port) {
		errno = EBADMSG;
		return -1;
	}
	struct ip_address local = diag_address(msg->idiag_family, msg->id.idiag_src);
	struct ip_address remote = diag_address(msg->idiag_family, msg->id.idiag_dst);
	/* The kernel's lookup falls back to a listener on the local port when no connection matches:
	 * that is "no socket with this 4-tuple", not the socket asked for. */
	if (msg->idiag_state == TCP_LISTEN && msg->id.idiag_dport == 0 && ip_address_is_unspecified(&remote))
		return 0;
	if (ntohs(msg->id.idiag_dport) != t->remote_port || !ip_address_equal(&local, &t->local_ip) ||
	    !ip_address_equal(&remote, &t->remote_ip)) {
		errno = EBADMSG;
		return -1;
	}
	found->exists = true;
	found->state = msg->idiag_state;
	found->timer_ms = msg->idiag_timer ? (int64_t)msg->idiag_expires : -1;
	found->cookie[0] = msg->id.idiag_cookie[0];
	found->cookie[1] = msg->id.idiag_cookie[1];
	return 0;
}

struct diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

/* A TCP request of family over sockets in every state, under the observer's next sequence number. */
static struct diag_request diag_request(struct observer *o, uint8_t family, uint16_t type, uint16_t flags)
{
	struct diag_request request = { 0 };
	request.nlh.nlmsg_len = sizeof request;
	request.nlh.nlmsg_type = type;
	request.nlh.nlmsg_flags = NLM_F_REQUEST | flags;
	request.nlh.nlmsg_seq = ++o->seq;
	request.req.sdiag_family = family;
	request.req.sdiag_protocol = IPPROTO_TCP;
	request.req.idiag_states = ~0U;
	return request;
}

/* Sends one inet_diag request naming the exact 4-tuple (and socket cookie) and reads its answer into
 * found (NULL: only the error status matters). Returns 0, or -1 with errno set to the kernel's error
 * (ENOENT: no such socket). */
static int diag_exchange(struct observer *o, uint16_t type, uint16_t flags, const struct tuple *t,
			 const uint32_t cookie[2], struct found_socket *found)
{
	_Alignas(struct nlmsghdr) char buf[DIAG_BUFFER_SIZE];
	struct diag_request request = diag_request(o, t->family, type, flags);
	uint32_t seq = request.nlh.nlmsg_seq;

	request.req.id.idiag_sport = htons(t->local_port);
	request.req.id.idiag_dport = htons(t->remote_port);
	put_diag_address(t->family, &t->local_ip, request.req.id.idiag_src);
	put_diag_address(t->family, &t->remote_ip, request.req.id.idiag_dst);
	request.req.id.idiag_cookie[0] = cookie[0];
	request.req.id.idiag_cookie[1] = cookie[1];

	if (send(o->diag_fd, &request, sizeof request, 0) < 0)
		return -1;
	/* The kernel answers an exact request synchronously with one datagram: the socket's
	 * inet_diag_msg, or an NLMSG_ERROR (which also carries the ack). Port id 0: only the kernel can
	 * address this socket, so the seq check suffices. */
	ssize_t n = recv(o->diag_fd, buf, sizeof buf, MSG_TRUNC);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof buf) {
		errno = EMSGSIZE;
		return -1;
	}
	return read_found((const struct nlmsghdr *)buf, (size_t)n, seq, found);
}

/* Exact lookup, not a filtered dump: it searches the established hash, which holds TIME_WAIT and
 * request (NEW_SYN_RECV) sockets too, and costs one hash probe instead of a table walk. An IPv4
 * 4-tuple is asked as AF_INET: the IPv4 hash also holds the AF_INET6 sockets that talk IPv4
 * (v4-mapped), which answer as AF_INET6 (inet_diag_find_one_icsk). */
static int find_socket(struct observer *o, struct tuple *t, struct found_socket *found,
		       char **error)
{
	static const uint32_t any_cookie[2] = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE };
	char tbuf[160], ebuf[128];

	found->asked = t;
	found->exists = false;
	t->family = ip_address_is_ipv4(&t->local_ip) ? AF_INET : AF_INET6;
	if (diag_exchange(o, SOCK_DIAG_BY_FAMILY, 0, t, any_cookie, found) == 0 || errno == ENOENT)
		return 0;
	int err = errno;
	return error_set(error, "sock_diag lookup %s: %s", tuple_text(t, tbuf, sizeof tbuf),
		    errno_text(err, ebuf, sizeof ebuf));
}

int observe_tcp_socket(struct observer *o, const struct ip_address *local_ip, uint16_t local_port,
		       const struct ip_address *remote_ip, uint16_t remote_port, struct socket_evidence *out,
		       char **error)
{
	struct tuple t = { 0, *local_ip, *remote_ip, local_port, remote_port };
	struct found_socket found;

	if (find_socket(o, &t, &found, error) < 0)
		return -1;
	out->state = found.exists ? found.state : TCP_STATE_NO_SOCKET;
	out->timer_ms = found.exists ? found.timer_ms : -1;
	return 0;
}

/* The one place a SOCK_DESTROY leaves: 0, or -1 with errno (the kernel's, or EOPNOTSUPP refused here). */
static int destroy_socket(struct observer *o, const struct tuple *t, const uint32_t cookie[2])
{
	if (o->refuse_destroy) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return diag_exchange(o, SOCK_DESTROY, NLM_F_ACK, t, cookie, NULL);
}

/* Who refused a SOCK_DESTROY with EOPNOTSUPP. */
static const char *destroy_refused_by(const struct observer *o)
{
	return o->refuse_destroy ? "the agent refuses it (--refuse-sock-destroy), as 4.9's tcp_abort does for TIME_WAIT"
				 : "the kernel refuses (no CONFIG_INET_DIAG_DESTROY, or its tcp_abort declines this state)";
}

int observe_destroy_tcp(struct observer *o, const struct ip_address *local_ip, uint16_t local_port,
			const struct ip_address *remote_ip, uint16_t remote_port, char **error)
{
	struct tuple t = { 0, *local_ip, *remote_ip, local_port, remote_port };
	struct found_socket found;
	char tbuf[160], ebuf[128];
	int err;

	if (find_socket(o, &t, &found, error) < 0)
		return -1;
	if (!found.exists)
		return 1;
	/* The cookie pins the socket just found: without it, a connection that vanished meanwhile
	 * would let the kernel's listener fallback destroy the listener instead (ESTALE then). */
	if (destroy_socket(o, &t, found.cookie) == 0)
		return 0;
	err = errno;
	if (err == ENOENT || err == ESTALE)
		return 1;
	if (err == EOPNOTSUPP)
		return error_set(error, "SOCK_DESTROY %s: %s: %s", tuple_text(&t, tbuf, sizeof tbuf),
			    errno_text(err, ebuf, sizeof ebuf), destroy_refused_by(o));
	if (err == EPERM)
		return error_set(error, "SOCK_DESTROY %s: %s: needs CAP_NET_ADMIN over the target namespace",
			    tuple_text(&t, tbuf, sizeof tbuf), errno_text(err, ebuf, sizeof ebuf));
	return error_set(error, "SOCK_DESTROY %s: %s", tuple_text(&t, tbuf, sizeof tbuf),
		    errno_text(err, ebuf, sizeof ebuf));
}

#define PURGE_MAX 4096

/* Reads a dump's multi-part answer and keeps the sockets whose peer is remote_ip (listeners have no
 * peer). Returns the number kept, or -1 with errno. */
static int collect_to_remote(struct observer *o, uint32_t seq, const struct ip_address *remote_ip,
			     struct found_socket *kept, struct tuple *tuples, int count, int max)
{
	_Alignas(struct nlmsghdr) char buf[DIAG_BUFFER_SIZE * 4];
	for (;;) {
		ssize_t n = recv(o->diag_fd, buf, sizeof buf, 0);
		if (n < 0)
			return -1;
		size_t len = (size_t)n;
		for (const struct nlmsghdr *nlh = (const void *)buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE)
				return count;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);
				errno = nlh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && e->error ? -e->error : EBADMSG;
				return -1;
			}
			const struct inet_diag_msg *msg = NLMSG_DATA(nlh);
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY || nlh->nlmsg_len < NLMSG_LENGTH(sizeof *msg))
				continue;
			if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
				continue;
			struct ip_address remote = diag_address(msg->idiag_family, msg->id.idiag_dst);
			if (!ip_address_equal(&remote, remote_ip) || count == max)
				continue;
			tuples[count] = (struct tuple){ msg->idiag_family, diag_address(msg->idiag_family, msg->id.idiag_src),
							remote, ntohs(msg->id.idiag_sport), ntohs(msg->id.idiag_dport) };
			kept[count].cookie[0] = msg->id.idiag_cookie[0];
			kept[count].cookie[1] = msg->id.idiag_cookie[1];
			count++;
		}
	}
}

/* The sockets whose peer is remote_ip, fresh from both families' dumps (a v4-mapped connection to an
 * IPv4 peer is listed under AF_INET6). Their count, or -1 with errno. */
static int dump_to_remote(struct observer *o, const struct ip_address *remote_ip, struct found_socket *kept,
			  struct tuple *tuples)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	int count = 0;
	for (size_t f = 0; f < sizeof families && count >= 0; f++) {
		struct diag_request request = diag_request(o, families[f], SOCK_DIAG_BY_FAMILY, NLM_F_DUMP);
		if (send(o->diag_fd, &request, sizeof request, 0) != (ssize_t)sizeof request)
			count = -1;
		else
			count = collect_to_remote(o, request.nlh.nlmsg_seq, remote_ip, kept, tuples, count, PURGE_MAX);
	}
	return count;
}

/* What a refusal means: EOPNOTSUPP comes from a kernel without CONFIG_INET_DIAG_DESTROY and from a
 * tcp_abort that declines the socket's state (4.9's, for TIME_WAIT). */
#define PURGE_ADVICE "start the agent with --netns-per-case IFACE, which needs no SOCK_DESTROY"

int observe_destroy_to_remote(struct observer *o, const struct ip_address *remote_ip, int *destroyed, char **error)
{
	struct found_socket *kept = calloc(PURGE_MAX, sizeof *kept);
	struct tuple *tuples = calloc(PURGE_MAX, sizeof *tuples);
	char ebuf[128], tbuf[160];
	int count = -1;
	*destroyed = 0;
	if (!kept || !tuples)
		errno = ENOMEM;
	else
		count = dump_to_remote(o, remote_ip, kept, tuples);
	int rc = count < 0 ? error_set(error, "sock_diag dump: %s", errno_text(errno, ebuf, sizeof ebuf)) : 0;
	for (int i = 0; i < count && rc == 0; i++) {
		/* A socket that closed since the dump is gone already (ENOENT), or replaced (ESTALE). */
		if (destroy_socket(o, &tuples[i], kept[i].cookie) == 0)
			++*destroyed;
		else if (errno != ENOENT && errno != ESTALE) {
			int err = errno;
			rc = error_set(error, "SOCK_DESTROY %s: %s%s%s; " PURGE_ADVICE,
				       tuple_text(&tuples[i], tbuf, sizeof tbuf), errno_text(err, ebuf, sizeof ebuf),
				       err == EOPNOTSUPP ? ": " : "", err == EOPNOTSUPP ? destroy_refused_by(o) : "");
		}
	}
	/* Older kernels' tcp_abort skips orphans without an error: only a second look shows them. */
	int left = rc == 0 && count > 0 ? dump_to_remote(o, remote_ip, kept, tuples) : 0;
	if (left < 0)
		rc = error_set(error, "sock_diag dump: %s", errno_text(errno, ebuf, sizeof ebuf));
	else if (left > 0)
		rc = error_set(error, "%d socket(s) outlived SOCK_DESTROY, e.g. %s: the kernel's tcp_abort skipped "
				      "them (orphans, before 4.x); " PURGE_ADVICE, left,
			       tuple_text(&tuples[0], tbuf, sizeof tbuf));
	free(kept);
	free(tuples);
	return rc;
}
