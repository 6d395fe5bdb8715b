/* pkt_code.h - packetdrill's `%{ }%` blocks without Python: the subset its scripts use on tcp_info
 * (assert with chained comparisons, + - * // % & |, and/or/not, print, and NAME = / += / -= with
 * constant values), lowered when the script is read and evaluated when the line runs. Pure code. */
#ifndef TCPHARNESS_PKT_CODE_H
#define TCPHARNESS_PKT_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_CODE_VARIABLES 16
#define PKT_CODE_NAME_MAX 32

/* The script's own variables (`cwnd = 10`), carried from block to block as Python would. */
struct pkt_code_variables {
	char name[PKT_CODE_VARIABLES][PKT_CODE_NAME_MAX];
	int64_t value[PKT_CODE_VARIABLES];
	int count;
};

/* Reads one block's text (len bytes): runs its assignments on vars and writes each assert's condition
 * into out[size] as one line, variables replaced by their values and the message dropped. Returns 0;
 * 1 with *why malloc'd naming a form outside the subset (or a block too long for out); -1 out of memory. */
int pkt_code_lower(const char *text, size_t len, struct pkt_code_variables *vars, char *out, size_t size,
		   char **why);

/* Looks a tcpi_* field up for pkt_code_check: true with *value, false when it cannot be read. */
typedef bool (*pkt_code_lookup)(const char *field, void *context, int64_t *value);

/* Evaluates every line pkt_code_lower wrote. Returns 0 when all hold; 1 when one does not, with
 * *failure malloc'd quoting it and the values of the fields it reads; -1 when a field could not be
 * read (*failure says which). */
int pkt_code_check(const char *lowered, pkt_code_lookup lookup, void *context, char **failure);

#endif
