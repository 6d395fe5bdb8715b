/* pkt_shell.h - the shell lines packetdrill scripts run in backticks (and the defaults.sh files they
 * name), read for what they do to the stack: per-namespace sysctls. Nothing is executed; pure code. */
#ifndef TCPHARNESS_PKT_SHELL_H
#define TCPHARNESS_PKT_SHELL_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h"

#define PKT_SHELL_MAX_SYSCTLS 16
#define PKT_SHELL_FILE_MAX 256

enum { PKT_SHELL_ERROR = -1, PKT_SHELL_DONE = 0, PKT_SHELL_UNSUPPORTED = 1 };

struct pkt_shell_file_line {
	int number; /* 1-based */
	char *text;
};

/* What one line does: sysctls to set, or (a sourced file such as ../common/defaults.sh) the file's
 * lines for the caller to read the same way, with in_file set. */
struct pkt_shell_effect {
	struct sysctl_setting sysctls[PKT_SHELL_MAX_SYSCTLS];
	int sysctl_count;
	char file[PKT_SHELL_FILE_MAX];             /* the sourced file as written */
	struct pkt_shell_file_line *file_lines;    /* malloc'd, with their texts */
	int file_line_count;
	/* `ethtool -K tun0 tso off [gso off]`: the script's link cuts the stack's TSO segments to the MSS
	 * (the case's link_offloads off). */
	bool offloads_off;
};

/* Reads one shell line (len bytes, any bytes) into *out; dir resolves relative file names; in_file:
 * the line comes from a sourced file, whose failing lines the shell would ignore (its sysctls are
 * best_effort, and it may not source another). Returns PKT_SHELL_DONE; PKT_SHELL_UNSUPPORTED with
 * *why malloc'd naming the command; or PKT_SHELL_ERROR with *why malloc'd (or NULL: out of memory).
 * Free *out with pkt_shell_effect_free whatever the result. */
int pkt_shell_line(const char *text, size_t len, const char *dir, bool in_file, struct pkt_shell_effect *out,
		   char **why);

/* Whether the line only undoes what the script's own sysctl changes did (set_sysctls.py's restore
 * script, `/tmp/sysctl_restore_${PPID}.sh`): nothing to do in a namespace thrown away after the case. */
bool pkt_shell_is_cleanup(const char *text, size_t len);

/* Bytes of text that are the command word and its options (`sysctl -q`), which the lines after one
 * ending in '\\' repeat. */
size_t pkt_shell_command_prefix(const char *text, size_t len);

void pkt_shell_effect_free(struct pkt_shell_effect *effect);

#endif
