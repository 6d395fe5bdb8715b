/* agent.h - the target-side application and the line protocol that drives it.
 * The same protocol runs over a socketpair to a child in the target namespace or over a command's stdio. */
#ifndef TCPHARNESS_AGENT_H
#define TCPHARNESS_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "case.h"
#include "ip_address.h"
#include "observe.h"

/*
 * Protocol (text, one line each way per call, fields separated by single spaces):
 *   request: <id> <op> <handle> [key=value ...]\n
 *            op: socket bind listen accept connect connected send recv shutdown close
 *                setsockopt getsockopt sysctl-get sysctl-set hello
 *                state counter purge reset accept-close neigh-flush neigh-add netns stalls (the stack's
 *                own evidence and upkeep; netns: the next case's namespace, value=/proc/PID/fd/N)
 *            keys: ip=ADDRESS port=N backlog=N from=HANDLE how=rd|wr|rdwr opt=NAME v=N v=N len=N
 *                  timeout_ms=N key=SYSCTL value=TEXT rip=ADDRESS rport=N name=COUNTER count=N
 *                  family=inet6 (the socket a handle gets is AF_INET6; on reset, the case's namespace
 *                  runs IPv6) lladdr=xx:xx:xx:xx:xx:xx (neigh-add: a permanent neighbour entry)
 *            ADDRESS: A.B.C.D or an IPv6 address
 *   reply:   <id> <ret> <errno-name or -> <sec>.<nsec 9 digits> [text]\n
 *            ret is the call's return value (-1 with an errno name on failure); the timestamp is
 *            CLOCK_REALTIME when the call returned; text carries sysctl-get's value, hello's kernel
 *            name, state's "<STATE> <timer ms>", or why the agent refused a request (EINVAL unknown
 *            op/key/handle, EBUSY...). counter's ret is the value, purge's the sockets destroyed,
 *            neigh-flush's the neighbour entries for ip= the host forgot.
 *   sysctl-set keeps each key's first value; reset (and end of input) closes every socket and puts
 *   those values back, so a lab host is left as it was even when the harness dies.
 *   value= comes last and runs to the end of the line (sysctl values may hold spaces).
 *   Lines are at most 511 bytes plus '\n'; details in agent_protocol.h.
 * Errno and option names travel as names (symbols.h), never numbers, so a remote agent on another
 * host or libc stays compatible.
 */

#define AGENT_PROTOCOL_VERSION 2

struct agent_reply {
	int64_t ret;
	int err;                 /* 0 when the call succeeded, else the errno (local numbering) */
	struct timespec when;    /* CLOCK_REALTIME at return */
	char text[384];          /* sysctl-get value, an error's explanation (whole: it fits a line) */
};

struct agent {
	pid_t pid;               /* child running the agent, or -1 */
	int fd;                  /* stream to it */
	unsigned next_id;
	char inbuf[512];
	size_t inlen;
	char stack[128];         /* hello's text: "Linux 6.1.0-28-cloud-amd64" */
	/* The errno of the last reply (0: none, or the call succeeded), so that a caller can tell what
	 * a stack cannot do (EOPNOTSUPP, ENOENT, EACCES) from an agent that broke. */
	int last_err;
	/* The last reset gave the stack a fresh network namespace (the agent runs --netns-per-case):
	 * nothing of an earlier case is left to purge. */
	bool fresh_netns;
	/* The family app calls run in (agent_call): set per case; 0 (ipv4) for a fresh agent. */
	enum address_family family;
	/* A request went out whose reply has not been read (a call started and never finished, a reply
	 * that timed out or broke the stream): the next exchange may not be in step, so an agent kept
	 * for the next case is stopped instead. */
	bool awaiting;
};

/* Forks a child that enters target_netns_fd's namespace, dies with its parent (PDEATHSIG) and serves
 * the protocol over a socketpair. Returns 0, or -1 with *error malloc'd. */
int agent_spawn_local(int target_netns_fd, struct agent *out, char **error);

/* Runs `sh -c command` with its stdin/stdout as the stream (`ssh lab1 tcpharness-agent`, `nsenter
 * --net=... tcpharness-agent`) and waits for its hello. Returns 0, or -1 with *error malloc'd. */
int agent_spawn_command(const char *command, struct agent *out, char **error);

/* Speaks to an agent already at the other end of a connected stream (a VM's virtio-serial port);
 * takes fd over. Returns 0 after its hello, or -1 with *error malloc'd (fd closed). */
int agent_attach_stream(int fd, struct agent *out, char **error);

/* Sends one application call and waits (at most timeout_ms beyond the call's own timeout) for its
 * reply. Returns 0 with *reply filled, or -1 with *error malloc'd when the agent is gone or the reply
 * is malformed. A failing call (ECONNREFUSED...) is a successful exchange: reply->err says it. */
int agent_call(struct agent *agent, const struct app_call *call, struct agent_reply *reply, char **error);

/* Longest line either side of the agent protocol accepts, counting its '\n' (agent_protocol.h). */
#define AGENT_LINE_MAX 512

/* agent_call in two halves, for a call that blocks while the run goes on (a .pkt's `+0...0.1 read`):
 * start sends it, finish waits for its reply; nothing else may go to the agent in between. */
struct agent_pending {
	unsigned id;
	int64_t wait_ms;
	char request[AGENT_LINE_MAX]; /* the request line, for diagnostics */
};
int agent_call_start(struct agent *agent, const struct app_call *call, struct agent_pending *pending, char **error);
int agent_call_finish(struct agent *agent, const struct agent_pending *pending, struct agent_reply *reply,
		      char **error);

/* Sysctl access through the agent (lab hosts): 0 or -1 with *error malloc'd. */
int agent_sysctl_get(struct agent *agent, const char *key, char *value, size_t size, char **error);
int agent_sysctl_set(struct agent *agent, const char *key, const char *value, char **error);
/* 1 when the stack has the sysctl, 0 when it does not (ENOENT), -1 with *error. */
int agent_sysctl_exists(struct agent *agent, const char *key, char **error);

/* The stack's own evidence, read where the agent runs (sock_diag, /proc/net): a socket's state and
 * timer, local = the stack's side. 0, or -1 with *error malloc'd. */
int agent_socket_state(struct agent *agent, const struct ip_address *local_ip, uint16_t local_port,
		       const struct ip_address *remote_ip, uint16_t remote_port, struct socket_evidence *out,
		       char **error);
/* A MIB counter ("TcpExt.PAWSEstab"): 1 with *value, 0 when the stack has no such counter, -1 with
 * *error. */
int agent_counter(struct agent *agent, const char *name, int64_t *value, char **error);
/* Destroys every socket whose peer is remote_ip (TIME_WAIT included). 0 with *destroyed, or -1. */
int agent_purge(struct agent *agent, const struct ip_address *remote_ip, int *destroyed, char **error);
/* Makes the host forget its neighbour (ARP or NDP) entries for ip on every interface, so that after a
 * lab run it no longer sends a peer address's traffic to the harness's MAC. 0 with *flushed, or -1. */
int agent_neigh_flush(struct agent *agent, const struct ip_address *ip, int *flushed, char **error);
/* Closes every socket the agent holds and restores the sysctls it changed; an agent that runs
 * --netns-per-case moves the stack into a fresh namespace, which runs IPv6 when family is ipv6
 * (agent_netns_fresh). 0, or -1 with *error. */
int agent_reset(struct agent *agent, enum address_family family, char **error);
/* Readies an agent from agent_spawn_local for the next case: its sockets closed, its saved sysctls
 * forgotten (they went with the previous case's namespace), the agent in netns_fd's namespace (one of
 * this process's descriptors). No fork per case: a worker keeps one agent (worker_link.h). 0, or -1
 * with *error malloc'd. */
int agent_enter_netns(struct agent *agent, int netns_fd, char **error);
/* A permanent neighbour entry for ip at mac in the case namespace of a --netns-per-case agent. 0, or
 * -1 with *error (EPERM from an agent without one). */
int agent_neigh_add(struct agent *agent, const struct ip_address *ip, const uint8_t mac[6], char **error);

/* The stack's TCP timestamp clock rate (tsclock, ~200 ms). 1 with *hz, 0 when the stack cannot tell,
 * -1 with *error malloc'd when the agent broke. */
int agent_ts_clock_hz(struct agent *agent, int *hz, char **error);
/* The stalls of the agent's machine by its clock watch (clock_watch_recent's text), read when the reply
 * comes: 1 with text, 0 when the agent watches no clock (or knows no such op), -1 with *error. */
int agent_stalls(struct agent *agent, char *text, size_t size, char **error);
/* Accepts up to count connections on listener, closing each at once (storms). 0 with *closed, or -1. */
int agent_accept_close(struct agent *agent, const char *listener, uint32_t count, int timeout_ms, int64_t *closed,
		       char **error);

/* Closes the stream, gives the agent a moment to restore what it changed, then reaps it (killing it
 * if it lingers). Safe on a zeroed agent with pid -1 / fd -1. */
void agent_stop(struct agent *agent);

/* Serves the protocol on in_fd/out_fd until EOF; used by the local child and by tcpharness-agent.
 * Returns 0 at clean EOF, -1 on a broken stream. The caller ignores SIGPIPE, so a vanished harness
 * ends the loop instead of the process. */
int agent_serve(int in_fd, int out_fd);

/* From now on agent_serve follows netns requests (agent_enter_netns): for an agent the harness forked,
 * whose namespaces are the harness's own throwaway ones. */
void agent_allow_netns(void);

/* From now on agent_serve sends no SOCK_DESTROY: a purge fails with EOPNOTSUPP as on a kernel that
 * cannot destroy the socket (4.9's tcp_abort and TIME_WAIT), so a run shows it needs none. */
void agent_refuse_sock_destroy(void);

#endif
