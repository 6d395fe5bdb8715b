/* observe.h - the kernel's own evidence from the target namespace: socket states over sock_diag
 * (inet_diag netlink, both families) and MIB counters from /proc/<pid>/net/{netstat,snmp,snmp6}. */
#ifndef TCPHARNESS_OBSERVE_H
#define TCPHARNESS_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ip_address.h"

struct observer {
	int diag_fd;            /* NETLINK_SOCK_DIAG socket bound to the target namespace */
	uint32_t seq;
	/* No SOCK_DESTROY is sent: each fails with EOPNOTSUPP, as a kernel without
	 * CONFIG_INET_DIAG_DESTROY answers and 4.9's tcp_abort does for TIME_WAIT (observe_open: false). */
	bool refuse_destroy;
};

/* Opens a sock_diag socket inside netns_fd's namespace (-1: the calling thread's own, as in the agent).
 * 0, or -1 with *error malloc'd. */
int observe_open(int netns_fd, struct observer *out, char **error);
void observe_close(struct observer *o);

/* What sock_diag tells of one socket. */
struct socket_evidence {
	int state;        /* TCP_ESTABLISHED.. TCP_NEW_SYN_RECV, or TCP_STATE_NO_SOCKET (symbols.h) */
	int64_t timer_ms; /* until its pending timer fires (TIME_WAIT, retransmit, keepalive...); -1: none */
};

/* The TCP socket with this 4-tuple (TIME_WAIT and request sockets included), seen from the stack
 * under test (local = target side): an IPv4 4-tuple matches an AF_INET socket or an AF_INET6 one
 * talking v4-mapped. Ports in host order. 0, or -1 with *error. */
int observe_tcp_socket(struct observer *o, const struct ip_address *local_ip, uint16_t local_port,
		       const struct ip_address *remote_ip, uint16_t remote_port, struct socket_evidence *out,
		       char **error);

/* Destroys that socket (SOCK_DESTROY, what `ss -K` does; works on TIME_WAIT entries here).
 * 0, 1 when there was no such socket, -1 with *error. */
int observe_destroy_tcp(struct observer *o, const struct ip_address *local_ip, uint16_t local_port,
			const struct ip_address *remote_ip, uint16_t remote_port, char **error);

/* Destroys every TCP socket whose peer is remote_ip, in any state (TIME_WAIT, orphans still
 * retransmitting, request sockets): a lab host starts each case without the previous one's
 * connections. *destroyed counts them. 0, or -1 with *error. */
int observe_destroy_to_remote(struct observer *o, const struct ip_address *remote_ip, int *destroyed, char **error);

#define COUNTERS_MAX 512

/* One snapshot of a namespace's MIB counters: "TcpExt.PAWSEstab", "Tcp.OutRsts", "IpExt.InOctets",
 * "Ip6.InReceives", "Icmp6.OutMsgs"... (TcpExt and Tcp count both families' TCP). */
struct counter_snapshot {
	int count;
	char names[COUNTERS_MAX][48];
	int64_t values[COUNTERS_MAX];
};

/* Reads /proc/<pid>/net/netstat, snmp and (when the kernel has IPv6) snmp6 (pid: any process inside
 * the namespace). 0, or -1 with *error malloc'd. */
int counters_read(pid_t pid_in_namespace, struct counter_snapshot *out, char **error);

/* Appends the counters of /proc/net/netstat or /proc/net/snmp text (header line, value line, per
 * prefix) to *out. 0, or -1 with *error a static message and out->count unchanged. */
int counters_parse(const char *text, size_t len, struct counter_snapshot *out, const char **error);

/* Appends the counters of /proc/net/snmp6 text (a `Ip6InReceives  N` line each) as "Ip6.InReceives".
 * 0, or -1 with *error a static message and out->count unchanged. */
int counters_parse_snmp6(const char *text, size_t len, struct counter_snapshot *out, const char **error);

/* Value of a counter by full name ("TcpExt.PAWSEstab") or bare name ("PAWSEstab": TcpExt, then Tcp,
 * then the rest). Returns true and sets *value when found. */
bool counters_get(const struct counter_snapshot *s, const char *name, int64_t *value);

#endif
