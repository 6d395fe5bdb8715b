/* agent_protocol.h - the agent's line protocol (agent.h) as pure text <-> struct conversions.
 * Nothing here touches a socket or a file; both ends of the stream share it. */
#ifndef TCPHARNESS_AGENT_PROTOCOL_H
#define TCPHARNESS_AGENT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "case.h"
#include "ip_address.h"

/* Largest send/recv a request may ask for. */
#define AGENT_IO_MAX (1u << 20)
/* Longest wait a request may ask for (accept, connected, recv). */
#define AGENT_TIMEOUT_MAX_MS 3600000

/* Every op the protocol knows: one per app_op plus the agent-only ones. */
enum agent_op {
	AGENT_OP_SOCKET,
	AGENT_OP_BIND,
	AGENT_OP_LISTEN,
	AGENT_OP_ACCEPT,
	AGENT_OP_CONNECT,
	AGENT_OP_CONNECTED,
	AGENT_OP_SEND,
	AGENT_OP_RECV,
	AGENT_OP_SHUTDOWN,
	AGENT_OP_CLOSE,
	AGENT_OP_SETSOCKOPT,
	AGENT_OP_GETSOCKOPT,
	AGENT_OP_SYSCTL_GET,
	AGENT_OP_SYSCTL_SET,
	AGENT_OP_HELLO,
	AGENT_OP_STATE,
	AGENT_OP_COUNTER,
	AGENT_OP_PURGE,
	AGENT_OP_RESET,
	AGENT_OP_ACCEPT_CLOSE,
	AGENT_OP_TSCLOCK,
	AGENT_OP_NEIGH_FLUSH,
	AGENT_OP_TCP_INFO,
	AGENT_OP_SENDTO,
	AGENT_OP_NEIGH_ADD,
	AGENT_OP_POLL,
	AGENT_OP_ERRQUEUE,
	AGENT_OP_EPOLL_CREATE,
	AGENT_OP_EPOLL_CTL,
	AGENT_OP_EPOLL_WAIT,
	AGENT_OP_IOCTL,
	AGENT_OP_NETNS,
	AGENT_OP_STALLS,
};

/* Longest MIB counter name ("TcpExt.TCPTimeWaitOverflow"), with its NUL. */
#define AGENT_COUNTER_NAME_MAX 48

/* One request. Which fields an op uses, and which are required, is fixed per op:
 *   socket family?; bind ip? port family?; listen port backlog? family?; accept from timeout_ms;
 *   connect ip port family?;
 *   connected timeout_ms; send len flags?; sendto ip port len flags? family?; recv len timeout_ms;
 *   shutdown how; close -;
 *   setsockopt opt v [v] (as many as the option takes); getsockopt opt; sysctl-get key;
 *   sysctl-set key value; hello -; state ip port rip rport; counter name; purge ip; reset family?;
 *   accept-close count timeout_ms; neigh-flush ip; tcp-info field (a tcpi_* name, carried in
 *   option; ret is its value); tsclock -; neigh-add ip lladdr; poll events timeout_ms (the handle's
 *   socket polled for glibc's POLL* bits; ret is its revents, 0 when the wait ran out); errqueue
 *   timeout_ms (one notification of the socket's error queue, waited for up to timeout_ms: ret is
 *   recvmsg's, text its sock_extended_err as `ee_errno=E ee_origin=O ee_type=T ee_code=C ee_info=I
 *   ee_data=D`, empty without one); epoll-create - (an epoll instance under the handle); epoll-ctl
 *   from ctl events (ctl add|mod|del of from's socket, events as epoll numbers them); epoll-wait
 *   timeout_ms (one ready event: ret its events, text its socket's handle; 0 and no text when none);
 *   ioctl request (siocinq or siocoutq: ret the bytes the socket counts); netns value (the next case: every
 *   socket closed, the saved sysctls forgotten with their namespace, and the agent in the network namespace
 *   the path names, /proc/PID/fd/N; only an agent forked by the harness, agent_spawn_local, does it);
 *   stalls - (the machine's stalls by the agent's clock watch, clock_watch_recent's text; ret how many,
 *   ENOENT without a watch).
 * sysctl-get/set, hello, state, counter, purge, reset, neigh-flush, neigh-add, tsclock, netns and stalls
 * carry the handle `-` (handle[0] == '\0' here); every other op names one.
 * value= comes last and runs to the end of the line, so it may hold spaces ("32768 60999"). */
struct agent_request {
	unsigned id;
	enum agent_op op;
	char handle[CASE_NAME_MAX];      /* [A-Za-z0-9_-], or "" for `-` */
	char from_handle[CASE_NAME_MAX];
	struct ip_address ip;            /* unspecified when absent */
	uint16_t port;
	int backlog;                     /* -1 when absent: the agent uses SOMAXCONN; 0 is a real backlog */
	int shutdown_how;                /* SHUT_RD / SHUT_WR / SHUT_RDWR */
	char option[CASE_NAME_MAX];      /* a sockopt_by_name() name */
	int values[2];
	int value_count;
	uint32_t length;                 /* <= AGENT_IO_MAX */
	bool end_of_record;              /* send: flags=eor, MSG_EOR */
	bool fast_open;                  /* sendto: flags=fastopen, MSG_FASTOPEN */
	bool zerocopy;                   /* send: flags=zerocopy, MSG_ZEROCOPY */
	int timeout_ms;                  /* 0..AGENT_TIMEOUT_MAX_MS */
	char key[SYSCTL_KEY_MAX];        /* "net." prefix, [a-z0-9_.-], no ".." */
	char value[SYSCTL_VALUE_MAX];    /* printable ASCII */
	struct ip_address remote_ip;     /* state: the socket's peer */
	uint16_t remote_port;
	char counter[AGENT_COUNTER_NAME_MAX]; /* [A-Za-z0-9.] */
	uint32_t count;                  /* accept-close: how many connections, 1..AGENT_COUNT_MAX */
	bool inet6;                      /* family=inet6: the handle's socket, when this op makes it, is
					  * AF_INET6 with IPV6_V6ONLY off (an IPv4 address is then v4-mapped);
					  * on reset, the case's namespace runs IPv6 */
	uint8_t lladdr[6];               /* neigh-add: the neighbour's Ethernet address */
	uint32_t poll_events;            /* poll: POLLIN|POLLOUT|... as glibc numbers them; epoll-ctl: EPOLL* */
	int epoll_ctl_op;                /* epoll-ctl: EPOLL_CTL_ADD, _MOD or _DEL */
	unsigned long ioctl_request;     /* ioctl: SIOCINQ or SIOCOUTQ */
};

/* Most connections one accept-close may take. */
#define AGENT_COUNT_MAX 65536

/* "sysctl-get" for AGENT_OP_SYSCTL_GET; "?" for a value outside the enum. */
const char *agent_op_name(enum agent_op op);

/* Fills *out with the request that performs call under id (timeout rounded up to whole ms) in address
 * family f: the call's address as family_address gives it, the socket of family_socket_domain.
 * Returns 0, or -1 with *error malloc'd when the call cannot travel (bad handle, option, length...). */
int agent_request_from_call(unsigned id, const struct app_call *call, enum address_family family,
			    struct agent_request *out, char **error);

/* Writes req as one '\n'-terminated, NUL-terminated line into line[size].
 * Returns the line's length without the NUL, or -1 with *error malloc'd (invalid field, no room). */
int agent_format_request(const struct agent_request *req, char *line, size_t size, char **error);

/* Parses one request line (len bytes, without '\n'; any bytes allowed). Returns 0 with *out filled, or
 * -1 with *error malloc'd; out->id then holds the line's id when it could be read, else 0. */
int agent_parse_request(const char *line, size_t len, struct agent_request *out, char **error);

/* Writes the reply to request id as one '\n'-terminated, NUL-terminated line into line[size]; the
 * errno name comes from reply->err and characters outside printable ASCII in reply->text become '?'.
 * Returns the line's length without the NUL, or -1 when size is too small for the line. */
int agent_format_reply(unsigned id, const struct agent_reply *reply, char *line, size_t size);

/* Parses one reply line (len bytes, without '\n'; any bytes allowed) into *id and *out.
 * Returns 0, or -1 with *error malloc'd. */
int agent_parse_reply(const char *line, size_t len, unsigned *id, struct agent_reply *out, char **error);

#endif
