/* case.h - a parsed case file: target, peers, variants, requirements and the ordered steps.
 * Produced by case_parser, read by run; nothing here touches the system. */
#ifndef TCPHARNESS_CASE_H
#define TCPHARNESS_CASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define CASE_MAX_PEERS 16
#define CASE_MAX_VARIANTS 16
#define CASE_MAX_SYSCTLS 16       /* per variant, and what a .tc file may write */
#define CASE_MAX_CASE_SYSCTLS 48  /* the case's own: a packetdrill defaults.sh sets about 25 */
#define CASE_MAX_UNSUPPORTED 64
#define CASE_UNSUPPORTED_TEXT 120
#define CASE_MAX_REQUIRES 8
#define CASE_NAME_MAX 32
#define CASE_MAX_STACKS 4      /* names in one `{...}` stack prefix */
#define CASE_STACK_NAME_MAX 16 /* with its NUL */
#define SYSCTL_KEY_MAX 128
#define SYSCTL_VALUE_MAX 64

/* Where a construct starts in its file, for `file:line:col: message` diagnostics. */
struct source_location {
	int line; /* 1-based */
	int col;  /* 1-based, in bytes */
};

/* `net.ipv4.tcp_tw_reuse=1`. Keys are validated: [a-z0-9_.-], no "..", no leading or trailing dot. */
struct sysctl_setting {
	char key[SYSCTL_KEY_MAX];
	char value[SYSCTL_VALUE_MAX];
	int refused_with; /* `K=V = EINVAL`: the stack must refuse the write with this errno; 0: take it */
	/* `tune KEY=VALUE`: a knob that only keeps the case deterministic where it exists (Linux's
	 * tcp_invalid_ratelimit); a stack without the key runs the case without it. A stack that has the
	 * key but refuses the value is still a SKIP. */
	bool where_present;
	/* Set where the stack has the key and takes the value, else left alone: a packetdrill
	 * defaults.sh line, whose failure the shell script ignores. */
	bool best_effort;
};

/* `peer c 192.0.2.10:40000 isn 1000000 tsclock 1000 rate 1000 to 8080` */
struct peer_decl {
	char name[CASE_NAME_MAX];
	uint32_t ip;          /* host byte order */
	uint16_t port;        /* default 40000 + index */
	uint32_t isn;         /* default 1000000 * (index + 1) */
	uint32_t ts_start;    /* TS clock value at case start; default 1000 */
	uint32_t ts_rate_hz;  /* TS clock ticks per second; default 1000 */
	uint16_t target_port; /* 0: the first `app listen`/`app bind` port, else learned from the kernel's SYN */
	/* A .pkt's peer: a SYN the stack sends it from another port is a new connection, which the peer
	 * follows from then on (a script's sockets connect one after another, as under packetdrill). */
	bool follows_active_opens;
	struct source_location where;
};

/* `variant tw-kept sysctl net.ipv4.tcp_max_tw_buckets=262144 ...` */
struct variant {
	char name[CASE_NAME_MAX];
	struct sysctl_setting sysctls[CASE_MAX_SYSCTLS];
	int sysctl_count;
};

/* When a step happens, in nanoseconds. Relative (`+0.2`) counts from the previous step's actual time,
 * absolute (`0.5`) from the case start. `1.0~1.2` gives an explicit window; without one the run's
 * default tolerance applies around `earliest`. */
struct time_spec {
	bool relative;
	bool has_window;
	int64_t earliest_ns;
	int64_t latest_ns;    /* == earliest_ns when !has_window */
	int64_t tolerance_ns; /* > 0: this line's slack instead of the run's (a .pkt's --tolerance_usecs),
			       * around its window too when it has one */
	/* For the next relative line, an app call happened when the harness made it, not when its reply
	 * came (a .pkt's system calls: packetdrill stamps a call's event when it is invoked). */
	bool clock_at_call;
};

enum app_op {
	APP_SOCKET,     /* app socket [H] */
	APP_BIND,       /* app bind [H] IP:PORT | PORT */
	APP_LISTEN,     /* app listen [H] PORT [backlog N]   (socket+bind+listen when H has no socket) */
	APP_ACCEPT,     /* app accept [H] [from L]            (default H "conn", L "lsn") */
	APP_CONNECT,    /* app connect [H] IP:PORT            (non-blocking; EINPROGRESS counts as success) */
	APP_CONNECTED,  /* app connected [H]                  (waits for connect completion, reports SO_ERROR) */
	APP_SEND,       /* app send [H] N */
	APP_RECV,       /* app recv [H] N                     (result: bytes, 0 at EOF, or errno) */
	APP_SHUTDOWN,   /* app shutdown [H] rd|wr|rdwr */
	APP_CLOSE,      /* app close [H] */
	APP_SETSOCKOPT, /* app setsockopt [H] NAME V [V2] */
	APP_GETSOCKOPT, /* app getsockopt [H] NAME            (SO_ERROR: result is the pending errno) */
	APP_TCP_INFO,   /* (a .pkt's %{ }%) one tcpi_* field of H's TCP_INFO, named in option */
	APP_SENDTO,     /* (a .pkt's sendto(..., MSG_FASTOPEN, ...)) send N bytes to IP:PORT, connecting */
	APP_POLL,       /* (a .pkt's poll) wait for poll_events on H; the result is its revents, 0 at the timeout */
	APP_ERRQUEUE,   /* (a .pkt's recvmsg(..., MSG_ERRQUEUE)) one notification of H's error queue, in expect_text */
	APP_EPOLL_CREATE, /* (a .pkt's epoll_create) an epoll instance named H */
	APP_EPOLL_CTL,  /* (a .pkt's epoll_ctl) epoll_ctl_op on H for from_handle's socket, poll_events */
	APP_EPOLL_WAIT, /* (a .pkt's epoll_wait) one ready event of H: its events, its socket in expect_text */
	APP_IOCTL,      /* (a .pkt's ioctl) SIOCINQ or SIOCOUTQ (ioctl_request) of H: the bytes it counts */
};

/* What a line expects back: `= 0`, `= 5`, `= EADDRNOTAVAIL`, `= *`; no `=` means "succeeds". */
enum app_expect_kind { APP_EXPECT_SUCCESS, APP_EXPECT_VALUE, APP_EXPECT_ERRNO, APP_EXPECT_ANY,
		       APP_EXPECT_FAILURE /* a .pkt's `= -1` without an errno: fails, with any errno */ };

struct app_call {
	enum app_op op;
	char handle[CASE_NAME_MAX];      /* socket this call acts on */
	char from_handle[CASE_NAME_MAX]; /* accept: the listener */
	uint32_t ip;                     /* connect/bind address, host order; 0 = any */
	uint16_t port;
	int backlog;
	int shutdown_how;                /* SHUT_RD / SHUT_WR / SHUT_RDWR */
	char option[CASE_NAME_MAX];      /* setsockopt/getsockopt name, validated against symbols.h */
	int values[2];
	int value_count;
	uint32_t length;                 /* send/recv byte count */
	bool end_of_record;              /* send with MSG_EOR (a .pkt's send flags) */
	bool fast_open;                  /* sendto with MSG_FASTOPEN: the SYN carries the data (RFC 7413) */
	bool zerocopy;                   /* send with MSG_ZEROCOPY: the stack notifies on the error queue */
	bool active_open;                /* a .pkt's connect: peers that follow active opens await its SYN */
	uint32_t poll_events;            /* APP_POLL: POLLIN|POLLOUT|... (glibc's bits); APP_EPOLL_CTL: EPOLL* */
	int epoll_ctl_op;                /* APP_EPOLL_CTL: EPOLL_CTL_ADD, _MOD or _DEL */
	unsigned long ioctl_request;     /* APP_IOCTL: SIOCINQ or SIOCOUTQ */
	/* > 0: the call blocks that long while the next lines run, and must return then, within the
	 * line's slack (a .pkt's `+0...0.1 read(...)`) */
	int64_t span_ns;
	int64_t span_slack_ns;           /* how far from the span's end the call may return */
	int64_t timeout_ns;              /* blocking calls (accept, recv, connected): `within T`, default 2 s */
	enum app_expect_kind expect;
	int64_t expect_value;            /* APP_EXPECT_VALUE */
	int expect_errno;                /* APP_EXPECT_ERRNO */
	/* Not empty: the reply's text must be this too (APP_ERRQUEUE: the notification's fields, as
	 * agent_protocol.h words them). */
	char expect_text[96];
};

enum step_kind {
	STEP_INJECT,          /* c < FLAGS ...             inject a segment from peer c */
	STEP_EXPECT_SEGMENT,  /* c > FLAGS ...             the stack's next segment to c must match */
	STEP_EXPECT_NONE,     /* c > none [within T]       no segment to c (T default 0: nothing so far) */
	STEP_APP,             /* app CALL ...              target application call */
	STEP_EXPECT_STATE,    /* [c] expect state NAME [timer A~B] [for T]  sock_diag state (NONE: no socket) */
	STEP_EXPECT_COUNTER,  /* expect counter NAME +N [for T]  MIB counter delta since case start */
	STEP_EXPECT_CLOCK,    /* expect clock A B same|offset  the stack's TSvals to A and B: one clock? */
	STEP_WAIT,            /* wait                      only advances time */
	STEP_INCARNATION,     /* c incarnation [seq ±N] [ts ±N]  new connection on c's 4-tuple */
	STEP_TSCLOCK_JUMP,    /* c tsclock ±N              c's timestamp clock jumps */
	STEP_STORM,           /* c storm N [from L]        N whole connection lifecycles (storm.h) */
	STEP_EXPECT_TCP_INFO, /* (a .pkt's %{ assert ... }%) conditions on the socket's TCP_INFO */
	STEP_SYSCTL,          /* (a .pkt's `sysctl -q K=V` while it runs) the stack's sysctl set at that time */
};

/* The conditions of one %{ }% block, lowered by pkt_code.h: one per line. */
#define CASE_TCP_INFO_CONDITIONS_MAX 1024

/* Most lifecycles one storm line may drive. */
#define CASE_STORM_MAX 60000

struct step {
	enum step_kind kind;
	struct source_location where; /* start of the line's event (after time and [variant] prefix) */
	int line_index;               /* index into case_file.lines, for printing the source line */
	uint32_t variant_mask;        /* bit i set: runs in variant i (all bits when no [..] prefix) */
	/* `{lwip,gvisor}`: runs only on those stacks (target_stack()); `{!lwip}`: on every other one.
	 * stack_count 0: on every stack. */
	char stacks[CASE_MAX_STACKS][CASE_STACK_NAME_MAX];
	/* `{linux<4.13}`: stacks[i] counts only at the releases its bound admits (release_code());
	 * stack_bounds[i].op RELEASE_ANY: at every release. */
	struct release_bound {
		enum release_op { RELEASE_ANY, RELEASE_LT, RELEASE_LE, RELEASE_EQ, RELEASE_GE, RELEASE_GT } op;
		uint32_t release;
	} stack_bounds[CASE_MAX_STACKS];
	int stack_count;
	bool stacks_negated;
	/* `{ipv6}`, `{!mapped}`: the same braces naming address families (ip_address.h) instead of stacks;
	 * bit f set: the step does not run in family f. 0: in every family. */
	unsigned skipped_families;
	struct time_spec when;
	int peer;                     /* index into peers; -1 when the step has none */
	int64_t hold_ns;              /* `expect state|counter ... for T`: must hold over T; 0: sampled once */
	bool outcome;                 /* `outcome` after the time: what this step observes is the case's
				       * outcome, the cell `tcpharness matrix` shows */
	/* Records what the stack does instead of judging it (explore.h builds such steps; no notation):
	 * STEP_EXPECT_NONE takes every segment to the peer within its window as an event, STEP_EXPECT_STATE
	 * the socket's state, STEP_EXPECT_COUNTER the counter's delta. Never breaks, never fails. */
	bool observe;
	/* STEP_INJECT: a SYN to a listener the script listened on again: it comes from the peer's next
	 * port, a connection of its own (peer_new_passive_open). */
	bool new_passive_open;
	union {
		struct segment_spec segment;       /* STEP_INJECT, STEP_EXPECT_SEGMENT */
		int64_t none_window_ns;            /* STEP_EXPECT_NONE */
		struct app_call app;               /* STEP_APP */
		struct {
			int state;                 /* TCP_* or TCP_STATE_NO_SOCKET */
			bool check_timer;          /* `timer A~B`: the socket's pending timer (the TIME_WAIT
						    * timer, a retransmission, keepalive) fires in A..B from now */
			int64_t timer_min_ns, timer_max_ns;
		} expected;                        /* STEP_EXPECT_STATE */
		struct {
			char name[64];             /* `PAWSEstab` or `TcpExt.PAWSEstab` */
			int64_t delta;
		} counter;                         /* STEP_EXPECT_COUNTER */
		struct {
			int other_peer;            /* B; A is the step's peer */
			bool same;                 /* `same`: B's TSval is A's plus the time between them */
		} clock;                           /* STEP_EXPECT_CLOCK */
		struct {
			int64_t seq_delta; /* new ISN = previous incarnation's snd_nxt + seq_delta */
			int64_t ts_delta;  /* the clock jumps by ts_delta */
		} incarnation;                     /* STEP_INCARNATION */
		int64_t ts_jump;                   /* STEP_TSCLOCK_JUMP */
		struct {
			uint32_t count;
			char listener[CASE_NAME_MAX]; /* the app handle listening: `from L`, default lsn */
		} storm;                           /* STEP_STORM */
		struct {
			char handle[CASE_NAME_MAX]; /* the socket the script's last socket() or accept() gave */
			char conditions[CASE_TCP_INFO_CONDITIONS_MAX];
		} tcp_info;                        /* STEP_EXPECT_TCP_INFO */
		struct sysctl_setting sysctl;      /* STEP_SYSCTL: per namespace, as the case's own */
	} u;
};

/* What the stack under test must have for the case to mean anything; without it the case is a SKIP. */
struct requirement {
	enum { REQUIRE_SYSCTL, REQUIRE_COUNTER, REQUIRE_OPTION } kind;
	char name[SYSCTL_KEY_MAX]; /* the key, the counter, or the option as written (`timestamps`) */
	uint8_t option;            /* REQUIRE_OPTION: what its SYN-ACK must carry (TCP_OPTION_TIMESTAMP,
				    * TCP_OPTION_SACK_PERMITTED or TCP_OPTION_WSCALE) */
};

struct case_file {
	char *path;           /* as given */
	char *name;           /* the display name, set for a run's cases together (case_name.h); NULL before */
	char **lines;         /* source lines without newline, for diagnostics */
	int line_count;
	uint32_t target_ip;   /* `target IP`, default 192.0.2.1 */
	unsigned families;    /* `family 4|6|mapped ...`: the families it runs in (bit 1 << family, ip_address.h);
			       * default all */
	struct peer_decl peers[CASE_MAX_PEERS];
	int peer_count;
	struct sysctl_setting sysctls[CASE_MAX_CASE_SYSCTLS]; /* `sysctl k=v`: every variant */
	int sysctl_count;
	struct variant variants[CASE_MAX_VARIANTS];      /* 0 declared: the case runs once, unnamed */
	int variant_count;
	struct requirement requires[CASE_MAX_REQUIRES];  /* `require sysctl|counter|option ...` */
	int require_count;
	struct step *steps;
	int step_count;
	/* Some step has a `{stack}` prefix: the case declares per-stack expectations, so stacks that
	 * differ from each other here differ by design. */
	bool per_stack;
	/* A packetdrill script: a segment from the stack that no line expects is only compared with the
	 * next `>` line, if one comes (its run_packet.c sniffs only for outbound events), instead of
	 * failing the case by itself. */
	bool expected_segments_only;
	/* A packetdrill script: its sandbox keeps TX checksum, TSO and GSO offloads on the target end, as
	 * packetdrill's tun device has them (TUNSETOFFLOAD in its netdev.c), so the stack's TSO
	 * super-segments reach the capture whole, as packetdrill sees them. */
	bool link_offloads;
	/* A packetdrill script without --strict_segments: an expected segment longer than the one the
	 * stack sent is matched by the segments that follow it, as packetdrill aggregates them (run.c,
	 * coalesce_fragments). */
	bool coalesce_segments;
	/* A line carries the stack's own Fast Open cookie (option_spec.stack_cookie): the run reads the
	 * stack's net.ipv4.tcp_fastopen_key to make it. */
	bool uses_stack_cookie;
	/* What the file uses that tcpharness cannot do (a .pkt's `%{ }%`, a shell command...): the case
	 * is a SKIP naming the first, and `check` lists them all. */
	struct unsupported_construct {
		struct source_location where;
		char what[CASE_UNSUPPORTED_TEXT];
	} unsupported[CASE_MAX_UNSUPPORTED];
	int unsupported_count;
};

void case_free(struct case_file *c);

/* A kernel release as one comparable number: major * 1000000 + minor * 1000 + patch. */
uint32_t release_code(uint32_t major, uint32_t minor, uint32_t patch);

/* Reads "MAJOR.MINOR[.PATCH]" at the start of text[len] ("6.1.0-57-cloud-amd64" gives 6.1.0; each
 * part at most 3 digits). Returns how many bytes it took, 0 when text does not start with one. */
size_t release_scan(const char *text, size_t len, uint32_t *code);

/* Whether step s runs on the stack named stack (target_stack(): "linux", "lwip", ...) at release
 * (release_code(); 0 when unknown, which no bound admits). */
bool step_runs_on(const struct step *s, const char *stack, uint32_t release);

/* Whether step s runs in address family `family` (an enum address_family). */
bool step_runs_in_family(const struct step *s, int family);

#endif
