/* agent_stack.h - what the agent (agent.h protocol) needs from the TCP stack it drives: socket calls
 * and the stack-wide evidence and upkeep ops, one table per stack (Linux here, lwIP in agent_lwip.h). */
#ifndef TCPHARNESS_AGENT_STACK_H
#define TCPHARNESS_AGENT_STACK_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ip_address.h"
#include "observe.h"

/*
 * Socket calls have BSD semantics on the stack's own descriptors (-1 with errno on failure, errno
 * numbered as glibc does); the agent's handle table holds those descriptors and never gives one to
 * another table. Stack-wide ops return 0 or an errno, with *why malloc'd (or left NULL) to say more;
 * the caller frees it. Ports are in host order.
 */
struct sock_extended_err; /* linux/errqueue.h */

struct agent_stack {
	/* A non-blocking TCP socket of domain AF_INET, or AF_INET6 with IPV6_V6ONLY off (EAFNOSUPPORT
	 * where the stack has no such sockets). */
	int (*socket)(int domain);
	/* Must refuse a socket that is already bound with EINVAL, as Linux does. */
	int (*bind)(int fd, const struct sockaddr *address, socklen_t length);
	int (*getsockname)(int fd, struct sockaddr *address, socklen_t *length);
	int (*getpeername)(int fd, struct sockaddr *address, socklen_t *length);
	int (*listen)(int fd, int backlog);
	int (*accept)(int fd);   /* the connection's non-blocking socket */
	int (*connect)(int fd, const struct sockaddr *address, socklen_t length);
	/* Waits up to timeout_ms for a connect to finish: 0 when connected, else an errno (EAGAIN:
	 * still in progress; ENOTCONN: no connect was made; the connect's error, which it consumes). */
	int (*connected)(int fd, int timeout_ms);
	ssize_t (*send)(int fd, const void *data, size_t length, int flags);
	/* sendto with MSG_FASTOPEN (RFC 7413): connects and sends in the SYN. NULL where the stack has no
	 * Fast Open client; the op then answers EOPNOTSUPP. */
	ssize_t (*sendto)(int fd, const void *data, size_t length, int flags, const struct sockaddr *address,
			  socklen_t address_length);
	/* A send (sendto when address is not NULL) as on a blocking socket: the stack's own waits for a
	 * Fast Open handshake and for room in the buffer, for at most timeout_ms (then a partial count,
	 * or -1 EAGAIN). NULL where the stack's agent has none; the op then answers EOPNOTSUPP. */
	ssize_t (*send_blocking)(int fd, const void *data, size_t length, int flags, const struct sockaddr *address,
				 socklen_t address_length, int timeout_ms);
	ssize_t (*recv)(int fd, void *data, size_t length, int flags);
	/* recvmsg with MSG_ERRQUEUE (MSG_ZEROCOPY's notifications): one from fd's error queue, its
	 * sock_extended_err in *out and *found true when it carried one; 0, or -1 with errno (EAGAIN:
	 * none queued). NULL where the stack has no error queue; the op then answers EOPNOTSUPP. */
	int (*read_error_queue)(int fd, struct sock_extended_err *out, bool *found);
	/* epoll (a .pkt's epoll_create/ctl/wait): an instance; epoll_ctl with data carried back by
	 * epoll_wait, which waits up to timeout_ms for one event (1, *events and *data set; 0 at the
	 * timeout). NULL, all three, where the stack has none; the ops then answer EOPNOTSUPP. */
	/* The bytes a socket counts for SIOCINQ (unread) or SIOCOUTQ (unsent and unacked): 0, or -1 with
	 * errno. NULL where the stack has no such ioctl; the op then answers EOPNOTSUPP. */
	int (*queued_bytes)(int fd, unsigned long request, int *bytes);
	int (*epoll_create)(void);
	int (*epoll_ctl)(int epfd, int op, int fd, uint32_t events, uint32_t data);
	int (*epoll_wait)(int epfd, uint32_t *events, uint32_t *data, int timeout_ms);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int level, int name, const void *value, socklen_t length);
	/* Boolean options read back as 0 or 1. */
	int (*getsockopt)(int fd, int level, int name, void *value, socklen_t *length);
	int (*poll)(struct pollfd *fds, nfds_t count, int timeout_ms);

	/* A net.* sysctl's value, whitespace runs made one space; 0 or an errno (EMSGSIZE: longer than
	 * size - 1). NULL, with sysctl_write, for a stack without sysctls: both ops answer ENOENT. */
	int (*sysctl_read)(const char *key, char *value, size_t size);
	int (*sysctl_write)(const char *key, const char *value); /* 0 or an errno */
	/* The socket with this 4-tuple (local = the stack's side); TCP_STATE_NO_SOCKET when none. */
	int (*state)(const struct ip_address *local_ip, uint16_t local_port, const struct ip_address *remote_ip,
		     uint16_t remote_port, struct socket_evidence *out, char **why);
	/* A MIB counter by name (ENOENT: no such counter). NULL for a stack without counters. */
	int (*counter)(const char *name, int64_t *value, char **why);
	/* Destroys every connection whose peer is remote_ip, TIME_WAIT included; *destroyed counts them. */
	int (*purge)(const struct ip_address *remote_ip, int *destroyed, char **why);
	/* The TCP timestamp clock's rate in Hz (ts_clock.h). NULL: unknown (tsclock answers ENOENT). */
	int (*ts_clock_hz)(int *hz, char **why);
	/* Deletes the host's neighbour entries for ip; *flushed counts them. NULL for a stack that keeps
	 * no neighbour table of a host's (the op answers EOPNOTSUPP). */
	int (*neigh_flush)(const struct ip_address *ip, int *flushed, char **why);
	/* Names the stack and its version for hello ("Linux 6.1.0-28-cloud-amd64"). */
	void (*hello)(char *text, size_t size);
};

/* The kernel's own sockets, /proc/sys, sock_diag and /proc/net counters: what agent_serve drives. */
extern const struct agent_stack agent_stack_linux;

/* Serves the agent protocol on in_fd/out_fd until EOF through stack, as agent_serve does for Linux.
 * Returns 0 at clean EOF, -1 on a broken stream. */
int agent_serve_stack(int in_fd, int out_fd, const struct agent_stack *stack);

/* Helpers for a table's own connected: polls fd for events through stack->poll, retrying after
 * EINTR. Returns 0 when ready, EAGAIN at the timeout, or poll's errno. */
int agent_stack_wait(const struct agent_stack *stack, int fd, short events, int timeout_ms);
/* After a connect that got somewhere: the pending error (SO_ERROR, consumed), else 0 when the socket
 * has a peer, else getpeername's errno (ENOTCONN). */
int agent_stack_connect_outcome(const struct agent_stack *stack, int fd);

#endif
