/* agent_lwip.c - see agent_lwip.h. Each entry papers over one of lwIP 2.1.3's departures from BSD
 * sockets listed in docs/lwip-notes.md; the PCB lists are the core thread's, so every walk of them
 * holds the core lock (LOCK_TCPIP_CORE), without which Debian's build aborts. */
#include "agent_lwip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/sockets.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

#include "symbols.h"

/* lwip_socket refuses SOCK_NONBLOCK in the type, and F_SETFL takes O_NONBLOCK alone. */
static int nonblocking_or_closed(int fd)
{
	if (fd < 0 || lwip_fcntl(fd, F_SETFL, O_NONBLOCK) == 0)
		return fd;
	int err = errno;
	lwip_close(fd);
	errno = err;
	return -1;
}

/* lwIP 2.1.3 is dual stack (LWIP_IPV4 and LWIP_IPV6): an AF_INET6 socket takes IPv4 peers as
 * ::ffff:a.b.c.d unless IPV6_V6ONLY is set (sockets.c lwip_bind/lwip_connect unmap them, api_msg.c
 * lwip_netconn_do_listen listens with IPADDR_TYPE_ANY), which is the mapped family. */
static int socket_nonblocking(int domain)
{
	if (domain != AF_INET && domain != AF_INET6) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return nonblocking_or_closed(lwip_socket(domain, SOCK_STREAM, 0));
}

/* lwIP has no accept4, and the accepted socket is blocking whatever the listener is. */
static int accept_nonblocking(int fd)
{
	return nonblocking_or_closed(lwip_accept(fd, NULL, NULL));
}

/* A second bind to another port corrupts tcp_bound_pcbs into a loop and the next bind hangs the
 * core for good: a socket with a port is refused here, with Linux's EINVAL. A socket whose PCB is
 * gone (after an RST) has no name and goes on to lwip_bind, which answers for itself. */
static int bind_once(int fd, const struct sockaddr *address, socklen_t length)
{
	struct sockaddr_storage name;
	socklen_t name_length = sizeof name;
	/* sin_port and sin6_port sit at the same offset. */
	if (lwip_getsockname(fd, (struct sockaddr *)&name, &name_length) == 0 &&
	    ((struct sockaddr_in *)&name)->sin_port != 0) {
		errno = EINVAL;
		return -1;
	}
	return lwip_bind(fd, address, length);
}

/* lwIP makes a TCP socket writable only once it connects, so a socket that never tried would wait
 * out the whole timeout; it is the one without a peer name (lwIP names the peer from SYN_SENT on). */
static int connected_within(int fd, int timeout_ms)
{
	struct sockaddr_storage peer;
	socklen_t peer_length = sizeof peer;
	if (lwip_getpeername(fd, (struct sockaddr *)&peer, &peer_length) < 0)
		return agent_stack_connect_outcome(&agent_stack_lwip, fd);
	int err = agent_stack_wait(&agent_stack_lwip, fd, POLLOUT, timeout_ms);
	return err ? err : agent_stack_connect_outcome(&agent_stack_lwip, fd);
}

/* lwIP reads SO_REUSEADDR and SO_KEEPALIVE back as their internal flag bits (4, 8). */
static int getsockopt_normalised(int fd, int level, int name, void *value, socklen_t *length)
{
	int rc = lwip_getsockopt(fd, level, name, value, length);
	if (rc == 0 && level == SOL_SOCKET && (name == SO_REUSEADDR || name == SO_KEEPALIVE) &&
	    *length == sizeof(int))
		*(int *)value = *(int *)value != 0;
	return rc;
}

/* lwIP's state names where they differ from Linux's (symbols.h): SYN_RCVD, FIN_WAIT_1/2, CLOSED. */
static const char *const linux_state_names[] = {
	[CLOSED] = "CLOSE",           [LISTEN] = "LISTEN",         [SYN_SENT] = "SYN_SENT",
	[SYN_RCVD] = "SYN_RECV",      [ESTABLISHED] = "ESTABLISHED", [FIN_WAIT_1] = "FIN_WAIT1",
	[FIN_WAIT_2] = "FIN_WAIT2",   [CLOSE_WAIT] = "CLOSE_WAIT", [CLOSING] = "CLOSING",
	[LAST_ACK] = "LAST_ACK",      [TIME_WAIT] = "TIME_WAIT",
};

/* A PCB's address as the harness writes it: IPv4 ones as ::ffff:a.b.c.d. A dual-stack listener's
 * address has IPADDR_TYPE_ANY (api_msg.c lwip_netconn_do_listen): the unspecified address of both. */
static bool same_address(const ip_addr_t *address, const struct ip_address *want)
{
	if (IP_IS_ANY_TYPE_VAL(*address))
		return ip_addr_isany(address) && ip_address_is_unspecified(want);
	if (IP_IS_V4(address))
		return ip_address_is_ipv4(want) && ntohl(ip4_addr_get_u32(ip_2_ip4(address))) == ip_address_ipv4(want);
	return !ip_address_is_ipv4(want) && memcmp(ip_2_ip6(address)->addr, want->bytes, 16) == 0;
}

/* TIME_WAIT ends at the first slow-timer tick that finds it older than 2 MSL (tcp_slowtmr), so the
 * ticks left are known and the time to within one tick (500 ms): this is the latest it can end. Other
 * timers are not reported: -1. */
static int64_t timer_ms(const struct tcp_pcb *pcb)
{
	if (pcb->state != TIME_WAIT)
		return -1;
	int64_t ticks_left = 2 * TCP_MSL / TCP_SLOW_INTERVAL + 1 - (int64_t)(u32_t)(tcp_ticks - pcb->tmr);
	return ticks_left > 0 ? ticks_left * TCP_SLOW_INTERVAL : 0;
}

static int state_of(const struct ip_address *local_ip, uint16_t local_port, const struct ip_address *remote_ip,
		    uint16_t remote_port, struct socket_evidence *out, char **why)
{
	(void)why;
	*out = (struct socket_evidence){ .state = TCP_STATE_NO_SOCKET, .timer_ms = -1 };
	LOCK_TCPIP_CORE();
	/* A listener has no remote end: the shorter tcp_pcb_listen holds no remote_port to read. */
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l; l = l->next)
		if (same_address(&l->local_ip, local_ip) && l->local_port == local_port && ip_address_is_unspecified(remote_ip) &&
		    remote_port == 0)
			out->state = tcp_state_from_name(linux_state_names[l->state]);
	struct tcp_pcb *lists[] = { tcp_active_pcbs, tcp_tw_pcbs };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (struct tcp_pcb *pcb = lists[i]; pcb; pcb = pcb->next)
			if (same_address(&pcb->local_ip, local_ip) && pcb->local_port == local_port &&
			    same_address(&pcb->remote_ip, remote_ip) && pcb->remote_port == remote_port) {
				out->state = tcp_state_from_name(linux_state_names[pcb->state]);
				out->timer_ms = timer_ms(pcb);
			}
	UNLOCK_TCPIP_CORE();
	return 0;
}

/* tcp_abort sends an RST from a live connection and drops a TIME_WAIT one silently, as SOCK_DESTROY
 * does on Linux; the socket's next call fails with ECONNABORTED. It unlinks and frees only the PCB
 * it is given (the netconn's error callback touches no other), so the saved next stays valid. */
static int purge_remote(const struct ip_address *remote_ip, int *destroyed, char **why)
{
	(void)why;
	*destroyed = 0;
	LOCK_TCPIP_CORE();
	struct tcp_pcb **lists[] = { &tcp_active_pcbs, &tcp_tw_pcbs };
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		for (struct tcp_pcb *pcb = *lists[i], *next; pcb; pcb = next) {
			next = pcb->next;
			if (same_address(&pcb->remote_ip, remote_ip)) {
				tcp_abort(pcb);
				++*destroyed;
			}
		}
	UNLOCK_TCPIP_CORE();
	return 0;
}

static void hello(char *text, size_t size)
{
	snprintf(text, size, "lwIP %s", LWIP_VERSION_STRING);
}

const struct agent_stack agent_stack_lwip = {
	.socket = socket_nonblocking,
	.bind = bind_once,
	.getsockname = lwip_getsockname,
	.getpeername = lwip_getpeername,
	.listen = lwip_listen,
	.accept = accept_nonblocking,
	.connect = lwip_connect,
	.connected = connected_within,
	.send = lwip_send,
	.recv = lwip_recv,
	.shutdown = lwip_shutdown,
	.close = lwip_close,
	.setsockopt = lwip_setsockopt,
	.getsockopt = getsockopt_normalised,
	.poll = lwip_poll,
	.state = state_of,
	.purge = purge_remote,
	.hello = hello,
};
