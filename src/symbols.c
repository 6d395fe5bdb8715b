/* symbols.c - see symbols.h. */
#include "symbols.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

struct errno_symbol {
	const char *name;
	int number;
};

#define ERRNO_SYMBOL(e) { #e, e }
/* The errnos socket calls and sysctl writes return (EROFS: a stack's read-only sysctl); an unknown one
 * still prints through errno_name as "E?". */
static const struct errno_symbol errno_symbols[] = {
	ERRNO_SYMBOL(EPERM), ERRNO_SYMBOL(ENOENT), ERRNO_SYMBOL(EINTR), ERRNO_SYMBOL(EIO),
	ERRNO_SYMBOL(EBADF), ERRNO_SYMBOL(EAGAIN), ERRNO_SYMBOL(ENOMEM), ERRNO_SYMBOL(EACCES),
	ERRNO_SYMBOL(EFAULT), ERRNO_SYMBOL(EBUSY), ERRNO_SYMBOL(EEXIST), ERRNO_SYMBOL(EINVAL),
	ERRNO_SYMBOL(ENFILE), ERRNO_SYMBOL(EMFILE), ERRNO_SYMBOL(ENOSPC), ERRNO_SYMBOL(EROFS), ERRNO_SYMBOL(EPIPE),
	ERRNO_SYMBOL(ENOTSOCK), ERRNO_SYMBOL(EDESTADDRREQ), ERRNO_SYMBOL(EMSGSIZE),
	ERRNO_SYMBOL(EPROTOTYPE), ERRNO_SYMBOL(ENOPROTOOPT), ERRNO_SYMBOL(EPROTONOSUPPORT),
	ERRNO_SYMBOL(EOPNOTSUPP), ERRNO_SYMBOL(EAFNOSUPPORT), ERRNO_SYMBOL(EADDRINUSE),
	ERRNO_SYMBOL(EADDRNOTAVAIL), ERRNO_SYMBOL(ENETDOWN), ERRNO_SYMBOL(ENETUNREACH),
	ERRNO_SYMBOL(ENETRESET), ERRNO_SYMBOL(ECONNABORTED), ERRNO_SYMBOL(ECONNRESET),
	ERRNO_SYMBOL(ENOBUFS), ERRNO_SYMBOL(EISCONN), ERRNO_SYMBOL(ENOTCONN), ERRNO_SYMBOL(ESHUTDOWN),
	ERRNO_SYMBOL(ETIMEDOUT), ERRNO_SYMBOL(ECONNREFUSED), ERRNO_SYMBOL(EHOSTDOWN),
	ERRNO_SYMBOL(EHOSTUNREACH), ERRNO_SYMBOL(EALREADY), ERRNO_SYMBOL(EINPROGRESS),
};

int errno_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof errno_symbols / sizeof errno_symbols[0]; i++)
		if (strcmp(errno_symbols[i].name, name) == 0)
			return errno_symbols[i].number;
	return -1;
}

const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof errno_symbols / sizeof errno_symbols[0]; i++)
		if (errno_symbols[i].number == err)
			return errno_symbols[i].name;
	return "E?";
}

#define SOCKOPT_SYMBOL(level, opt, count) { #opt, level, opt, count }
static const struct sockopt_symbol sockopt_symbols[] = {
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_REUSEADDR, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_REUSEPORT, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_LINGER, 2),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_KEEPALIVE, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_ERROR, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_RCVBUF, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_SNDBUF, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_NODELAY, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_KEEPIDLE, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_KEEPINTVL, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_KEEPCNT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_USER_TIMEOUT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_MAXSEG, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_LINGER2, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_SYNCNT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_QUICKACK, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_DEFER_ACCEPT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_CORK, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_NOTSENT_LOWAT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_WINDOW_CLAMP, 1),
	/* RFC 7413: a listener's queue of Fast Open requests; a client's connect() deferred to the
	 * first write; a listener that takes data without a cookie (tcp_fastopen.c). */
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_FASTOPEN, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1),
	SOCKOPT_SYMBOL(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1),
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_RCVLOWAT, 1),
	/* MSG_ZEROCOPY's permission (Documentation/networking/msg_zerocopy.rst). */
	SOCKOPT_SYMBOL(SOL_SOCKET, SO_ZEROCOPY, 1),
	SOCKOPT_SYMBOL(IPPROTO_IP, IP_FREEBIND, 1),
};

const struct sockopt_symbol *sockopt_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof sockopt_symbols / sizeof sockopt_symbols[0]; i++)
		if (strcmp(sockopt_symbols[i].name, name) == 0)
			return &sockopt_symbols[i];
	return NULL;
}

/* Indexed by the kernel's TCP state numbers (include/net/tcp_states.h); 0 is our "no socket". */
static const char *const tcp_state_names[] = {
	"NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
};
#define TCP_STATE_NAME_COUNT (int)(sizeof tcp_state_names / sizeof tcp_state_names[0])

int tcp_state_from_name(const char *name)
{
	for (int i = 0; i < TCP_STATE_NAME_COUNT; i++)
		if (strcmp(tcp_state_names[i], name) == 0)
			return i;
	return -1;
}

const char *tcp_state_name(int state)
{
	if (state < 0 || state >= TCP_STATE_NAME_COUNT)
		return "UNKNOWN";
	return tcp_state_names[state];
}
