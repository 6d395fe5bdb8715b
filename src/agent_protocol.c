/* agent_protocol.c - see agent_protocol.h.
 * Both directions are parsed as hostile input: every byte, field and number is checked before use. */
#include "agent_protocol.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/socket.h>

#include "error_text.h"
#include "symbols.h"
#include "tcp_info_fields.h"

static const char *const op_names[] = {
	[AGENT_OP_SOCKET] = "socket",         [AGENT_OP_BIND] = "bind",
	[AGENT_OP_LISTEN] = "listen",         [AGENT_OP_ACCEPT] = "accept",
	[AGENT_OP_CONNECT] = "connect",       [AGENT_OP_CONNECTED] = "connected",
	[AGENT_OP_SEND] = "send",             [AGENT_OP_RECV] = "recv",
	[AGENT_OP_SHUTDOWN] = "shutdown",     [AGENT_OP_CLOSE] = "close",
	[AGENT_OP_SETSOCKOPT] = "setsockopt", [AGENT_OP_GETSOCKOPT] = "getsockopt",
	[AGENT_OP_SYSCTL_GET] = "sysctl-get", [AGENT_OP_SYSCTL_SET] = "sysctl-set",
	[AGENT_OP_HELLO] = "hello",           [AGENT_OP_STATE] = "state",
	[AGENT_OP_COUNTER] = "counter",       [AGENT_OP_PURGE] = "purge",
	[AGENT_OP_RESET] = "reset",           [AGENT_OP_ACCEPT_CLOSE] = "accept-close",
	[AGENT_OP_TSCLOCK] = "tsclock",
	[AGENT_OP_NEIGH_FLUSH] = "neigh-flush",
	[AGENT_OP_TCP_INFO] = "tcp-info",     [AGENT_OP_SENDTO] = "sendto",
	[AGENT_OP_NEIGH_ADD] = "neigh-add",    [AGENT_OP_POLL] = "poll",
	[AGENT_OP_ERRQUEUE] = "errqueue",     [AGENT_OP_EPOLL_CREATE] = "epoll-create",
	[AGENT_OP_EPOLL_CTL] = "epoll-ctl",   [AGENT_OP_EPOLL_WAIT] = "epoll-wait",
	[AGENT_OP_IOCTL] = "ioctl",           [AGENT_OP_NETNS] = "netns",
	[AGENT_OP_STALLS] = "stalls",
};
#define OP_COUNT (int)(sizeof op_names / sizeof op_names[0])

const char *agent_op_name(enum agent_op op)
{
	if ((int)op < 0 || (int)op >= OP_COUNT)
		return "?";
	return op_names[op];
}

enum key {
	KEY_IP, KEY_PORT, KEY_BACKLOG, KEY_FROM, KEY_HOW, KEY_OPT, KEY_V, KEY_LEN, KEY_TIMEOUT,
	KEY_SYSCTL, KEY_VALUE, KEY_REMOTE_IP, KEY_REMOTE_PORT, KEY_COUNTER, KEY_CONNECTIONS, KEY_FAMILY, KEY_FIELD,
	KEY_FLAGS, KEY_LLADDR, KEY_EVENTS, KEY_CTL, KEY_REQUEST,
};
static const char *const key_names[] = {
	[KEY_IP] = "ip", [KEY_PORT] = "port", [KEY_BACKLOG] = "backlog", [KEY_FROM] = "from",
	[KEY_HOW] = "how", [KEY_OPT] = "opt", [KEY_V] = "v", [KEY_LEN] = "len",
	[KEY_TIMEOUT] = "timeout_ms", [KEY_SYSCTL] = "key", [KEY_VALUE] = "value", [KEY_REMOTE_IP] = "rip",
	[KEY_REMOTE_PORT] = "rport", [KEY_COUNTER] = "name", [KEY_CONNECTIONS] = "count", [KEY_FAMILY] = "family",
	[KEY_FIELD] = "field", [KEY_FLAGS] = "flags", [KEY_LLADDR] = "lladdr",
	[KEY_EVENTS] = "events", [KEY_CTL] = "ctl", [KEY_REQUEST] = "request",
};
#define KEY_COUNT (int)(sizeof key_names / sizeof key_names[0])
#define K(k) (1u << (k))

/* The contract of each op: keys it accepts and the subset it cannot do without. */
static const struct {
	unsigned allowed, required;
} op_keys[] = {
	/* family= on the ops that may make the handle's socket. */
	[AGENT_OP_SOCKET] = { K(KEY_FAMILY), 0 },
	[AGENT_OP_BIND] = { K(KEY_IP) | K(KEY_PORT) | K(KEY_FAMILY), K(KEY_PORT) },
	[AGENT_OP_LISTEN] = { K(KEY_PORT) | K(KEY_BACKLOG) | K(KEY_FAMILY), K(KEY_PORT) },
	[AGENT_OP_ACCEPT] = { K(KEY_FROM) | K(KEY_TIMEOUT), K(KEY_FROM) | K(KEY_TIMEOUT) },
	[AGENT_OP_CONNECT] = { K(KEY_IP) | K(KEY_PORT) | K(KEY_FAMILY), K(KEY_IP) | K(KEY_PORT) },
	[AGENT_OP_CONNECTED] = { K(KEY_TIMEOUT), K(KEY_TIMEOUT) },
	/* timeout_ms > 0: a blocking send, which waits that long for the connection and the buffer. */
	[AGENT_OP_SEND] = { K(KEY_LEN) | K(KEY_FLAGS) | K(KEY_TIMEOUT), K(KEY_LEN) },
	[AGENT_OP_SENDTO] = { K(KEY_IP) | K(KEY_PORT) | K(KEY_LEN) | K(KEY_FLAGS) | K(KEY_FAMILY) | K(KEY_TIMEOUT),
			      K(KEY_IP) | K(KEY_PORT) | K(KEY_LEN) },
	[AGENT_OP_RECV] = { K(KEY_LEN) | K(KEY_TIMEOUT), K(KEY_LEN) | K(KEY_TIMEOUT) },
	[AGENT_OP_SHUTDOWN] = { K(KEY_HOW), K(KEY_HOW) },
	[AGENT_OP_CLOSE] = { 0, 0 },
	[AGENT_OP_SETSOCKOPT] = { K(KEY_OPT) | K(KEY_V), K(KEY_OPT) | K(KEY_V) },
	[AGENT_OP_GETSOCKOPT] = { K(KEY_OPT), K(KEY_OPT) },
	[AGENT_OP_SYSCTL_GET] = { K(KEY_SYSCTL), K(KEY_SYSCTL) },
	[AGENT_OP_SYSCTL_SET] = { K(KEY_SYSCTL) | K(KEY_VALUE), K(KEY_SYSCTL) | K(KEY_VALUE) },
	[AGENT_OP_HELLO] = { 0, 0 },
#define STATE_KEYS (K(KEY_IP) | K(KEY_PORT) | K(KEY_REMOTE_IP) | K(KEY_REMOTE_PORT))
	[AGENT_OP_STATE] = { STATE_KEYS, STATE_KEYS },
	[AGENT_OP_COUNTER] = { K(KEY_COUNTER), K(KEY_COUNTER) },
	[AGENT_OP_PURGE] = { K(KEY_IP), K(KEY_IP) },
	/* family=inet6: the fresh namespace of --netns-per-case runs IPv6. */
	[AGENT_OP_RESET] = { K(KEY_FAMILY), 0 },
	[AGENT_OP_ACCEPT_CLOSE] = { K(KEY_CONNECTIONS) | K(KEY_TIMEOUT), K(KEY_CONNECTIONS) | K(KEY_TIMEOUT) },
	[AGENT_OP_TSCLOCK] = { 0, 0 },
	[AGENT_OP_NEIGH_FLUSH] = { K(KEY_IP), K(KEY_IP) },
	[AGENT_OP_TCP_INFO] = { K(KEY_FIELD), K(KEY_FIELD) },
	[AGENT_OP_NEIGH_ADD] = { K(KEY_IP) | K(KEY_LLADDR), K(KEY_IP) | K(KEY_LLADDR) },
	[AGENT_OP_POLL] = { K(KEY_EVENTS) | K(KEY_TIMEOUT), K(KEY_EVENTS) | K(KEY_TIMEOUT) },
	[AGENT_OP_ERRQUEUE] = { K(KEY_TIMEOUT), K(KEY_TIMEOUT) },
	[AGENT_OP_EPOLL_CREATE] = { 0, 0 },
	[AGENT_OP_EPOLL_CTL] = { K(KEY_FROM) | K(KEY_CTL) | K(KEY_EVENTS), K(KEY_FROM) | K(KEY_CTL) | K(KEY_EVENTS) },
	[AGENT_OP_EPOLL_WAIT] = { K(KEY_TIMEOUT), K(KEY_TIMEOUT) },
	[AGENT_OP_IOCTL] = { K(KEY_REQUEST), K(KEY_REQUEST) },
	/* value=/proc/PID/fd/N: the namespace the next case runs in. */
	[AGENT_OP_NETNS] = { K(KEY_VALUE), K(KEY_VALUE) },
	[AGENT_OP_STALLS] = { 0, 0 },
};

/* Ops about the stack as a whole rather than one of the case's sockets. */
static bool op_has_handle(enum agent_op op)
{
	switch (op) {
	case AGENT_OP_SYSCTL_GET:
	case AGENT_OP_SYSCTL_SET:
	case AGENT_OP_HELLO:
	case AGENT_OP_STATE:
	case AGENT_OP_COUNTER:
	case AGENT_OP_PURGE:
	case AGENT_OP_RESET:
	case AGENT_OP_TSCLOCK:
	case AGENT_OP_NEIGH_FLUSH:
	case AGENT_OP_NEIGH_ADD:
	case AGENT_OP_NETNS:
	case AGENT_OP_STALLS:
		return false;
	default:
		return true;
	}
}

/* MIB names as /proc/net/netstat spells them: "TcpExt.PAWSEstab". */
static bool valid_counter_name(const char *text, size_t len)
{
	if (len == 0 || len >= AGENT_COUNTER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'))
			return false;
	}
	return true;
}

static const struct {
	const char *name;
	int how;
} shutdown_names[] = { { "rd", SHUT_RD }, { "wr", SHUT_WR }, { "rdwr", SHUT_RDWR } };

static const struct {
	const char *name;
	int op;
} epoll_ctl_names[] = { { "add", EPOLL_CTL_ADD }, { "mod", EPOLL_CTL_MOD }, { "del", EPOLL_CTL_DEL } };

static const struct {
	const char *name;
	unsigned long request;
} ioctl_names[] = { { "siocinq", SIOCINQ }, { "siocoutq", SIOCOUTQ } };

static const char *shutdown_name(int how)
{
	for (size_t i = 0; i < sizeof shutdown_names / sizeof shutdown_names[0]; i++)
		if (shutdown_names[i].how == how)
			return shutdown_names[i].name;
	return NULL;
}

static bool is_printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Handles become protocol tokens, so they may hold nothing that separates or ends a field. */
static bool valid_handle(const char *text, size_t len)
{
	if (len == 0 || len >= CASE_NAME_MAX || (len == 1 && text[0] == '-'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* The agent may run as root on a lab host: it writes only the network part of /proc/sys, and a key
 * can never climb out of it. */
static bool valid_sysctl_key(const char *text, size_t len)
{
	if (len >= SYSCTL_KEY_MAX || len <= 4 || strncmp(text, "net.", 4) != 0 || text[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
		if (c == '.' && text[i + 1] == '.')
			return false;
	}
	return true;
}

static bool valid_sysctl_value(const char *text, size_t len)
{
	if (len == 0 || len >= SYSCTL_VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_printable(text[i]))
			return false;
	return true;
}

/* Decimal digits only (no sign, no spaces), at most max. */
static bool parse_unsigned(const char *text, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t value = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

/* Optional '-', then digits, within [min, max]. */
static bool parse_signed(const char *text, size_t len, int64_t min, int64_t max, int64_t *out)
{
	uint64_t magnitude;
	if (len > 0 && text[0] == '-') {
		if (!parse_unsigned(text + 1, len - 1, (uint64_t)INT64_MAX + 1, &magnitude))
			return false;
		int64_t value = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
		if (value < min)
			return false;
		*out = value;
		return true;
	}
	if (!parse_unsigned(text, len, (uint64_t)max, &magnitude))
		return false;
	if ((int64_t)magnitude < min)
		return false;
	*out = (int64_t)magnitude;
	return true;
}

/* Six two-digit hex bytes separated by colons: an Ethernet address. */
static bool parse_lladdr(const char *text, size_t len, uint8_t out[6])
{
	if (len != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		unsigned value = 0;
		for (int j = 0; j < 2; j++) {
			char c = text[3 * i + j];
			int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (digit < 0)
				return false;
			value = value * 16 + (unsigned)digit;
		}
		if (i < 5 && text[3 * i + 2] != ':')
			return false;
		out[i] = (uint8_t)value;
	}
	return true;
}

/* A field is the bytes up to the next space. A line ending in a space ends in an empty field, so
 * doubled or trailing spaces surface as empty fields rather than vanishing. */
struct cursor {
	const char *line;
	size_t len, pos; /* pos > len: no field left */
};

static bool next_field(struct cursor *c, const char **field, size_t *field_len)
{
	if (c->pos > c->len)
		return false;
	const char *start = c->line + c->pos;
	const char *space = memchr(start, ' ', c->len - c->pos);
	*field = start;
	*field_len = space ? (size_t)(space - start) : c->len - c->pos;
	c->pos += *field_len + 1;
	return true;
}

static int check_line_bytes(const char *what, const char *line, size_t len, char **error)
{
	if (len >= AGENT_LINE_MAX)
		return error_set(error, "%s line is %zu bytes, longer than %d", what, len, AGENT_LINE_MAX - 1);
	for (size_t i = 0; i < len; i++)
		if (!is_printable(line[i]))
			return error_set(error, "%s line holds byte 0x%02x at column %zu (only printable ASCII)", what,
				    (unsigned char)line[i], i + 1);
	return 0;
}

static int parse_key_value(struct cursor *c, const char *field, size_t field_len, struct agent_request *out,
			   unsigned *seen, char **error)
{
	const char *eq = memchr(field, '=', field_len);
	if (!eq)
		return error_set(error, "'%.*s' is not key=value", (int)field_len, field);
	size_t name_len = (size_t)(eq - field);
	const char *text = eq + 1;
	size_t len = field_len - name_len - 1;
	int key = -1;
	for (int k = 0; k < KEY_COUNT; k++)
		if (strlen(key_names[k]) == name_len && memcmp(key_names[k], field, name_len) == 0)
			key = k;
	if (key < 0)
		return error_set(error, "unknown key '%.*s'", (int)name_len, field);
	if (!(op_keys[out->op].allowed & K(key)))
		return error_set(error, "key '%s' does not apply to %s", key_names[key], agent_op_name(out->op));
	if ((*seen & K(key)) && !(key == KEY_V && out->value_count < 2))
		return error_set(error, "key '%s' given %s", key_names[key], key == KEY_V ? "more than twice" : "twice");
	*seen |= K(key);

	uint64_t number;
	int64_t signed_number;
	char buf[IP_ADDRESS_TEXT_MAX];
	switch ((enum key)key) {
	case KEY_IP:
	case KEY_REMOTE_IP:
		if (len >= sizeof buf)
			return error_set(error, "bad %s '%.*s'", key_names[key], (int)len, text);
		memcpy(buf, text, len);
		buf[len] = '\0';
		if (ip_address_parse(buf, key == KEY_IP ? &out->ip : &out->remote_ip) < 0)
			return error_set(error, "bad %s '%s' (want A.B.C.D or an IPv6 address)", key_names[key], buf);
		break;
	case KEY_FAMILY:
		if (len != 5 || memcmp(text, "inet6", 5) != 0)
			return error_set(error, "bad family '%.*s' (want inet6)", (int)len, text);
		out->inet6 = true;
		break;
	case KEY_LLADDR:
		if (!parse_lladdr(text, len, out->lladdr))
			return error_set(error, "bad lladdr '%.*s' (want xx:xx:xx:xx:xx:xx)", (int)len, text);
		break;
	case KEY_PORT:
	case KEY_REMOTE_PORT:
		if (!parse_unsigned(text, len, UINT16_MAX, &number))
			return error_set(error, "bad %s '%.*s' (want 0..65535)", key_names[key], (int)len, text);
		*(key == KEY_PORT ? &out->port : &out->remote_port) = (uint16_t)number;
		break;
	case KEY_COUNTER:
		if (!valid_counter_name(text, len))
			return error_set(error, "bad counter name '%.*s' (want [A-Za-z0-9.], 1..%d bytes)", (int)len,
					 text, AGENT_COUNTER_NAME_MAX - 1);
		memcpy(out->counter, text, len);
		out->counter[len] = '\0';
		break;
	case KEY_CONNECTIONS:
		if (!parse_unsigned(text, len, AGENT_COUNT_MAX, &number) || number == 0)
			return error_set(error, "bad count '%.*s' (want 1..%d)", (int)len, text, AGENT_COUNT_MAX);
		out->count = (uint32_t)number;
		break;
	case KEY_BACKLOG:
		if (!parse_unsigned(text, len, INT_MAX, &number))
			return error_set(error, "bad backlog '%.*s' (want 0..%d)", (int)len, text, INT_MAX);
		out->backlog = (int)number;
		break;
	case KEY_FROM:
		if (!valid_handle(text, len))
			return error_set(error, "bad handle '%.*s' in from=", (int)len, text);
		memcpy(out->from_handle, text, len);
		out->from_handle[len] = '\0';
		break;
	case KEY_HOW:
		out->shutdown_how = -1;
		for (size_t i = 0; i < sizeof shutdown_names / sizeof shutdown_names[0]; i++)
			if (strlen(shutdown_names[i].name) == len && memcmp(shutdown_names[i].name, text, len) == 0)
				out->shutdown_how = shutdown_names[i].how;
		if (out->shutdown_how < 0)
			return error_set(error, "bad how '%.*s' (want rd, wr or rdwr)", (int)len, text);
		break;
	case KEY_FLAGS:
		/* Names travel, not numbers: MSG_EOR, MSG_FASTOPEN and MSG_ZEROCOPY are the ones a case asks
		 * for, one or more joined by ',' (`fastopen,zerocopy`). */
		for (size_t at = 0; at <= len;) {
			size_t word = at;
			while (word < len && text[word] != ',')
				word++;
			size_t n = word - at;
			if (n == 3 && memcmp(text + at, "eor", 3) == 0)
				out->end_of_record = true;
			else if (n == 8 && memcmp(text + at, "fastopen", 8) == 0)
				out->fast_open = true;
			else if (n == 8 && memcmp(text + at, "zerocopy", 8) == 0)
				out->zerocopy = true;
			else
				return error_set(error, "unknown send flags '%.*s' (want eor, fastopen or zerocopy, joined by ',')",
						 (int)len, text);
			at = word + 1;
		}
		break;
	case KEY_FIELD:
		if (len >= sizeof out->option)
			return error_set(error, "field name too long");
		memcpy(out->option, text, len);
		out->option[len] = '\0';
		if (!tcp_info_has_field(out->option))
			return error_set(error, "unknown tcp_info field '%s'", out->option);
		break;
	case KEY_OPT:
		if (len >= sizeof out->option)
			return error_set(error, "unknown socket option '%.*s'", (int)len, text);
		memcpy(out->option, text, len);
		out->option[len] = '\0';
		if (!sockopt_by_name(out->option))
			return error_set(error, "unknown socket option '%s'", out->option);
		break;
	case KEY_V:
		if (!parse_signed(text, len, INT_MIN, INT_MAX, &signed_number))
			return error_set(error, "bad value '%.*s' in v= (want an int)", (int)len, text);
		out->values[out->value_count++] = (int)signed_number;
		break;
	case KEY_EVENTS:
		if (!parse_unsigned(text, len, UINT32_MAX, &number))
			return error_set(error, "bad events '%.*s' (want poll's or epoll's bits, 0..%u)", (int)len, text,
					 UINT32_MAX);
		out->poll_events = (uint32_t)number;
		break;
	case KEY_REQUEST:
		out->ioctl_request = 0;
		for (size_t i = 0; i < sizeof ioctl_names / sizeof ioctl_names[0]; i++)
			if (strlen(ioctl_names[i].name) == len && memcmp(ioctl_names[i].name, text, len) == 0)
				out->ioctl_request = ioctl_names[i].request;
		if (!out->ioctl_request)
			return error_set(error, "bad request '%.*s' (want siocinq or siocoutq)", (int)len, text);
		break;
	case KEY_CTL:
		out->epoll_ctl_op = -1;
		for (size_t i = 0; i < sizeof epoll_ctl_names / sizeof epoll_ctl_names[0]; i++)
			if (strlen(epoll_ctl_names[i].name) == len && memcmp(epoll_ctl_names[i].name, text, len) == 0)
				out->epoll_ctl_op = epoll_ctl_names[i].op;
		if (out->epoll_ctl_op < 0)
			return error_set(error, "bad ctl '%.*s' (want add, mod or del)", (int)len, text);
		break;
	case KEY_LEN:
		if (!parse_unsigned(text, len, AGENT_IO_MAX, &number))
			return error_set(error, "bad len '%.*s' (want 0..%u)", (int)len, text, AGENT_IO_MAX);
		out->length = (uint32_t)number;
		break;
	case KEY_TIMEOUT:
		if (!parse_unsigned(text, len, AGENT_TIMEOUT_MAX_MS, &number))
			return error_set(error, "bad timeout_ms '%.*s' (want 0..%d)", (int)len, text, AGENT_TIMEOUT_MAX_MS);
		out->timeout_ms = (int)number;
		break;
	case KEY_SYSCTL:
		if (!valid_sysctl_key(text, len))
			return error_set(error, "refused sysctl key '%.*s' (want net.[a-z0-9_.-], no '..')", (int)len, text);
		memcpy(out->key, text, len);
		out->key[len] = '\0';
		break;
	case KEY_VALUE:
		/* The value may hold spaces, so it takes the rest of the line. */
		len = c->len - (size_t)(text - c->line);
		if (!valid_sysctl_value(text, len))
			return error_set(error, "bad sysctl value (want 1..%d printable bytes)", SYSCTL_VALUE_MAX - 1);
		memcpy(out->value, text, len);
		out->value[len] = '\0';
		c->pos = c->len + 1;
		break;
	}
	return 0;
}

int agent_parse_request(const char *line, size_t len, struct agent_request *out, char **error)
{
	memset(out, 0, sizeof *out);
	out->backlog = -1;
	if (check_line_bytes("request", line, len, error) < 0)
		return -1;

	struct cursor c = { line, len, 0 };
	const char *field;
	size_t field_len;
	uint64_t id;
	if (!next_field(&c, &field, &field_len) || !parse_unsigned(field, field_len, UINT_MAX, &id) || id == 0)
		return error_set(error, "request does not start with an id (1..%u)", UINT_MAX);
	out->id = (unsigned)id;

	if (!next_field(&c, &field, &field_len))
		return error_set(error, "request has no op");
	int op = -1;
	for (int i = 0; i < OP_COUNT; i++)
		if (strlen(op_names[i]) == field_len && memcmp(op_names[i], field, field_len) == 0)
			op = i;
	if (op < 0)
		return error_set(error, "unknown op '%.*s'", (int)field_len, field);
	out->op = (enum agent_op)op;

	if (!next_field(&c, &field, &field_len))
		return error_set(error, "%s has no handle", agent_op_name(out->op));
	if (op_has_handle(out->op)) {
		if (!valid_handle(field, field_len))
			return error_set(error, "bad handle '%.*s' (want [A-Za-z0-9_-], 1..%d bytes)", (int)field_len, field,
				    CASE_NAME_MAX - 1);
		memcpy(out->handle, field, field_len);
		out->handle[field_len] = '\0';
	} else if (field_len != 1 || field[0] != '-') {
		return error_set(error, "%s takes the handle '-'", agent_op_name(out->op));
	}

	unsigned seen = 0;
	while (next_field(&c, &field, &field_len)) {
		if (field_len == 0)
			return error_set(error, "empty field at column %zu", (size_t)(field - line) + 1);
		if (parse_key_value(&c, field, field_len, out, &seen, error) < 0)
			return -1;
	}
	unsigned missing = op_keys[out->op].required & ~seen;
	for (int k = 0; k < KEY_COUNT; k++)
		if (missing & K(k))
			return error_set(error, "%s needs %s=", agent_op_name(out->op), key_names[k]);
	if (out->op == AGENT_OP_SETSOCKOPT && out->value_count != sockopt_by_name(out->option)->value_count)
		return error_set(error, "%s takes %d value(s), got %d", out->option, sockopt_by_name(out->option)->value_count,
			    out->value_count);
	return 0;
}

/* Appends to a fixed buffer; remembers overflow so the caller checks once at the end. */
struct writer {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct writer *w, const char *fmt, ...)
{
	if (w->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->size - w->len)
		w->overflow = true;
	else
		w->len += (size_t)n;
}

int agent_format_request(const struct agent_request *req, char *line, size_t size, char **error)
{
	if ((int)req->op < 0 || (int)req->op >= OP_COUNT)
		return error_set(error, "request has no valid op (%d)", (int)req->op);
	const char *op = agent_op_name(req->op);
	unsigned keys = op_keys[req->op].allowed;
	if (req->id == 0)
		return error_set(error, "%s: request id 0 is reserved", op);
	if (op_has_handle(req->op) && !valid_handle(req->handle, strlen(req->handle)))
		return error_set(error, "%s: bad handle '%s'", op, req->handle);

	struct writer w = { line, size, 0, size == 0 };
	put(&w, "%u %s %s", req->id, op, op_has_handle(req->op) ? req->handle : "-");
	char text[IP_ADDRESS_TEXT_MAX];
	if ((keys & K(KEY_IP)) && (!ip_address_is_unspecified(&req->ip) || op_keys[req->op].required & K(KEY_IP)))
		put(&w, " ip=%s", ip_address_format(&req->ip, text));
	if (keys & K(KEY_PORT))
		put(&w, " port=%u", (unsigned)req->port);
	if (keys & K(KEY_REMOTE_IP))
		put(&w, " rip=%s rport=%u", ip_address_format(&req->remote_ip, text), (unsigned)req->remote_port);
	if ((keys & K(KEY_FAMILY)) && req->inet6)
		put(&w, " family=inet6");
	if (keys & K(KEY_LLADDR))
		put(&w, " lladdr=%02x:%02x:%02x:%02x:%02x:%02x", req->lladdr[0], req->lladdr[1], req->lladdr[2],
		    req->lladdr[3], req->lladdr[4], req->lladdr[5]);
	if (keys & K(KEY_COUNTER)) {
		if (!valid_counter_name(req->counter, strlen(req->counter)))
			return error_set(error, "%s: bad counter name '%s'", op, req->counter);
		put(&w, " name=%s", req->counter);
	}
	if (keys & K(KEY_CONNECTIONS)) {
		if (req->count == 0 || req->count > AGENT_COUNT_MAX)
			return error_set(error, "%s: count %" PRIu32 " is outside 1..%d", op, req->count, AGENT_COUNT_MAX);
		put(&w, " count=%" PRIu32, req->count);
	}
	if ((keys & K(KEY_BACKLOG)) && req->backlog >= 0)
		put(&w, " backlog=%d", req->backlog);
	if (keys & K(KEY_FROM)) {
		if (!valid_handle(req->from_handle, strlen(req->from_handle)))
			return error_set(error, "%s: bad handle '%s' to accept from", op, req->from_handle);
		put(&w, " from=%s", req->from_handle);
	}
	if (keys & K(KEY_HOW)) {
		const char *how = shutdown_name(req->shutdown_how);
		if (!how)
			return error_set(error, "%s: bad shutdown direction %d", op, req->shutdown_how);
		put(&w, " how=%s", how);
	}
	if (keys & K(KEY_REQUEST)) {
		const char *request = NULL;
		for (size_t i = 0; i < sizeof ioctl_names / sizeof ioctl_names[0]; i++)
			if (ioctl_names[i].request == req->ioctl_request)
				request = ioctl_names[i].name;
		if (!request)
			return error_set(error, "%s: bad ioctl request %lu", op, req->ioctl_request);
		put(&w, " request=%s", request);
	}
	if (keys & K(KEY_CTL)) {
		const char *ctl = NULL;
		for (size_t i = 0; i < sizeof epoll_ctl_names / sizeof epoll_ctl_names[0]; i++)
			if (epoll_ctl_names[i].op == req->epoll_ctl_op)
				ctl = epoll_ctl_names[i].name;
		if (!ctl)
			return error_set(error, "%s: bad epoll_ctl op %d", op, req->epoll_ctl_op);
		put(&w, " ctl=%s", ctl);
	}
	if (keys & K(KEY_EVENTS))
		put(&w, " events=%" PRIu32, req->poll_events);
	if (keys & K(KEY_FIELD)) {
		if (!tcp_info_has_field(req->option))
			return error_set(error, "%s: unknown tcp_info field '%s'", op, req->option);
		put(&w, " field=%s", req->option);
	}
	if (keys & K(KEY_OPT)) {
		const struct sockopt_symbol *opt = sockopt_by_name(req->option);
		if (!opt)
			return error_set(error, "%s: unknown socket option '%s'", op, req->option);
		if (keys & K(KEY_V)) {
			if (req->value_count != opt->value_count)
				return error_set(error, "%s: %s takes %d value(s), got %d", op, opt->name, opt->value_count,
					    req->value_count);
		}
		put(&w, " opt=%s", opt->name);
		for (int i = 0; (keys & K(KEY_V)) && i < req->value_count; i++)
			put(&w, " v=%d", req->values[i]);
	}
	if (keys & K(KEY_LEN)) {
		if (req->length > AGENT_IO_MAX)
			return error_set(error, "%s: length %" PRIu32 " is above %u", op, req->length, AGENT_IO_MAX);
		put(&w, " len=%" PRIu32, req->length);
	}
	if ((keys & K(KEY_FLAGS)) && (req->end_of_record || req->fast_open || req->zerocopy))
		put(&w, " flags=%s%s%s%s%s", req->end_of_record ? "eor" : "",
		    req->end_of_record && (req->fast_open || req->zerocopy) ? "," : "", req->fast_open ? "fastopen" : "",
		    req->fast_open && req->zerocopy ? "," : "", req->zerocopy ? "zerocopy" : "");
	/* A send carries timeout_ms only when it blocks (> 0). */
	bool timeout_travels = (req->op != AGENT_OP_SEND && req->op != AGENT_OP_SENDTO) || req->timeout_ms > 0;
	if ((keys & K(KEY_TIMEOUT)) && timeout_travels) {
		if (req->timeout_ms < 0 || req->timeout_ms > AGENT_TIMEOUT_MAX_MS)
			return error_set(error, "%s: timeout %d ms is outside 0..%d", op, req->timeout_ms,
				    AGENT_TIMEOUT_MAX_MS);
		put(&w, " timeout_ms=%d", req->timeout_ms);
	}
	if (keys & K(KEY_SYSCTL)) {
		if (!valid_sysctl_key(req->key, strlen(req->key)))
			return error_set(error, "%s: refused sysctl key '%s' (want net.[a-z0-9_.-], no '..')", op, req->key);
		put(&w, " key=%s", req->key);
	}
	if (keys & K(KEY_VALUE)) {
		if (!valid_sysctl_value(req->value, strlen(req->value)))
			return error_set(error, "%s: bad sysctl value '%s' (want 1..%d printable bytes)", op, req->value,
				    SYSCTL_VALUE_MAX - 1);
		put(&w, " value=%s", req->value);
	}
	put(&w, "\n");
	if (w.overflow || w.len >= AGENT_LINE_MAX)
		return error_set(error, "%s: request does not fit in %zu bytes", op,
			    size < AGENT_LINE_MAX ? size : (size_t)AGENT_LINE_MAX);
	return (int)w.len;
}

int agent_request_from_call(unsigned id, const struct app_call *call, enum address_family family,
			    struct agent_request *out, char **error)
{
	static const enum agent_op op_of_app[] = {
		[APP_SOCKET] = AGENT_OP_SOCKET,         [APP_BIND] = AGENT_OP_BIND,
		[APP_LISTEN] = AGENT_OP_LISTEN,         [APP_ACCEPT] = AGENT_OP_ACCEPT,
		[APP_CONNECT] = AGENT_OP_CONNECT,       [APP_CONNECTED] = AGENT_OP_CONNECTED,
		[APP_SEND] = AGENT_OP_SEND,             [APP_RECV] = AGENT_OP_RECV,
		[APP_SHUTDOWN] = AGENT_OP_SHUTDOWN,     [APP_CLOSE] = AGENT_OP_CLOSE,
		[APP_SETSOCKOPT] = AGENT_OP_SETSOCKOPT, [APP_GETSOCKOPT] = AGENT_OP_GETSOCKOPT,
		[APP_TCP_INFO] = AGENT_OP_TCP_INFO,     [APP_SENDTO] = AGENT_OP_SENDTO,
		[APP_POLL] = AGENT_OP_POLL,             [APP_ERRQUEUE] = AGENT_OP_ERRQUEUE,
		[APP_EPOLL_CREATE] = AGENT_OP_EPOLL_CREATE, [APP_EPOLL_CTL] = AGENT_OP_EPOLL_CTL,
		[APP_EPOLL_WAIT] = AGENT_OP_EPOLL_WAIT, [APP_IOCTL] = AGENT_OP_IOCTL,
	};
	memset(out, 0, sizeof *out);
	if ((int)call->op < 0 || (size_t)call->op >= sizeof op_of_app / sizeof op_of_app[0])
		return error_set(error, "app call has no valid op (%d)", (int)call->op);
	if (call->timeout_ns < 0)
		return error_set(error, "app call has a negative timeout");
	/* Rounded up: a call given 1.5 ms must not be cut short at 1 ms. */
	int64_t timeout_ms = call->timeout_ns / 1000000 + (call->timeout_ns % 1000000 != 0);
	if (timeout_ms > AGENT_TIMEOUT_MAX_MS)
		return error_set(error, "app call timeout %" PRId64 " ms is above %d", timeout_ms, AGENT_TIMEOUT_MAX_MS);
	if (call->value_count < 0 || call->value_count > 2)
		return error_set(error, "app call has %d values (0..2)", call->value_count);

	out->id = id;
	out->op = op_of_app[call->op];
	memcpy(out->handle, call->handle, sizeof out->handle);
	memcpy(out->from_handle, call->from_handle, sizeof out->from_handle);
	out->handle[sizeof out->handle - 1] = '\0';
	out->from_handle[sizeof out->from_handle - 1] = '\0';
	out->ip = family_address(family, call->ip);
	out->inet6 = family_socket_domain(family) == AF_INET6;
	out->port = call->port;
	out->backlog = call->backlog;
	out->shutdown_how = call->shutdown_how;
	memcpy(out->option, call->option, sizeof out->option);
	out->option[sizeof out->option - 1] = '\0';
	memcpy(out->values, call->values, sizeof out->values);
	out->value_count = call->value_count;
	out->length = call->length;
	out->end_of_record = call->end_of_record;
	out->fast_open = call->fast_open;
	out->zerocopy = call->zerocopy;
	out->poll_events = call->poll_events;
	out->epoll_ctl_op = call->epoll_ctl_op;
	out->ioctl_request = call->ioctl_request;
	/* A send blocks only for a .pkt's span; every other call waits as long as its line allows. */
	bool send = call->op == APP_SEND || call->op == APP_SENDTO;
	out->timeout_ms = send && call->span_ns <= 0 ? 0 : (int)timeout_ms;

	/* Formatting validates every field the op uses; fail here rather than at send time. */
	char line[AGENT_LINE_MAX];
	return agent_format_request(out, line, sizeof line, error) < 0 ? -1 : 0;
}

int agent_format_reply(unsigned id, const struct agent_reply *reply, char *line, size_t size)
{
	struct writer w = { line, size, 0, size == 0 };
	put(&w, "%u %" PRId64 " %s %lld.%09ld", id, reply->ret, reply->err ? errno_name(reply->err) : "-",
	    (long long)reply->when.tv_sec, reply->when.tv_nsec);
	size_t text_len = strnlen(reply->text, sizeof reply->text - 1);
	if (text_len > 0) {
		put(&w, " ");
		for (size_t i = 0; i < text_len && !w.overflow; i++)
			put(&w, "%c", is_printable(reply->text[i]) ? reply->text[i] : '?');
	}
	put(&w, "\n");
	if (w.overflow || w.len >= AGENT_LINE_MAX)
		return -1;
	return (int)w.len;
}

int agent_parse_reply(const char *line, size_t len, unsigned *id, struct agent_reply *out, char **error)
{
	memset(out, 0, sizeof *out);
	if (check_line_bytes("reply", line, len, error) < 0)
		return -1;

	struct cursor c = { line, len, 0 };
	const char *field;
	size_t field_len;
	uint64_t number;
	if (!next_field(&c, &field, &field_len) || !parse_unsigned(field, field_len, UINT_MAX, &number))
		return error_set(error, "reply does not start with an id: '%.*s'", (int)len, line);
	*id = (unsigned)number;

	if (!next_field(&c, &field, &field_len) || !parse_signed(field, field_len, INT64_MIN, INT64_MAX, &out->ret))
		return error_set(error, "reply has no valid return value: '%.*s'", (int)len, line);

	if (!next_field(&c, &field, &field_len) || field_len == 0)
		return error_set(error, "reply has no errno field: '%.*s'", (int)len, line);
	if (field_len != 1 || field[0] != '-') {
		char name[32];
		if (field_len >= sizeof name)
			return error_set(error, "reply carries an unknown errno name: '%.*s'", (int)len, line);
		memcpy(name, field, field_len);
		name[field_len] = '\0';
		out->err = errno_from_name(name);
		if (out->err < 0)
			return error_set(error, "reply carries errno '%s', which this harness has no name for", name);
		if (out->ret != -1)
			return error_set(error, "reply carries errno %s with return value %" PRId64 " (want -1)", name, out->ret);
	}

	const char *dot;
	if (!next_field(&c, &field, &field_len) || !(dot = memchr(field, '.', field_len)) ||
	    !parse_unsigned(field, (size_t)(dot - field), INT64_MAX, &number) ||
	    field_len - (size_t)(dot - field) - 1 != 9)
		return error_set(error, "reply has no <sec>.<9-digit nsec> timestamp: '%.*s'", (int)len, line);
	out->when.tv_sec = (time_t)number;
	if (!parse_unsigned(dot + 1, 9, 999999999, &number))
		return error_set(error, "reply has no <sec>.<9-digit nsec> timestamp: '%.*s'", (int)len, line);
	out->when.tv_nsec = (long)number;

	size_t text_len = c.pos <= c.len ? c.len - c.pos : 0;
	if (text_len >= sizeof out->text)
		return error_set(error, "reply text is %zu bytes, longer than %zu", text_len, sizeof out->text - 1);
	memcpy(out->text, line + (c.pos <= c.len ? c.pos : c.len), text_len);
	out->text[text_len] = '\0';
	return 0;
}
