/* symbols.h - names the case language and the agent protocol share with the kernel's numbers:
 * errno names, socket option names, TCP state names. Names travel; numbers stay local to a host. */
#ifndef TCPHARNESS_SYMBOLS_H
#define TCPHARNESS_SYMBOLS_H

#include <stdbool.h>

/* "EADDRNOTAVAIL" -> EADDRNOTAVAIL; returns -1 for an unknown name. */
int errno_from_name(const char *name);
/* EADDRNOTAVAIL -> "EADDRNOTAVAIL"; "E?" for a number with no name here. */
const char *errno_name(int err);

struct sockopt_symbol {
	const char *name;  /* "SO_LINGER" */
	int level;         /* SOL_SOCKET / IPPROTO_TCP */
	int optname;       /* SO_LINGER */
	int value_count;   /* integers a setsockopt takes: 2 for SO_LINGER (onoff, linger), else 1 */
};
/* Looks up a socket option by name; NULL when the case language does not know it. */
const struct sockopt_symbol *sockopt_by_name(const char *name);

/* Linux TCP states as sock_diag reports them (TCP_ESTABLISHED = 1 ... TCP_NEW_SYN_RECV = 12).
 * TCP_STATE_NO_SOCKET stands for "no socket with that 4-tuple". */
#define TCP_STATE_NO_SOCKET 0
/* "TIME_WAIT" -> 6, "NONE" -> TCP_STATE_NO_SOCKET; -1 for an unknown name. */
int tcp_state_from_name(const char *name);
/* 6 -> "TIME_WAIT", TCP_STATE_NO_SOCKET -> "NONE". */
const char *tcp_state_name(int state);

#endif
