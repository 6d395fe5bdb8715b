/* shard.h - a deterministic split of a selection's runs into N shards for CI runners, balanced by each
 * run's expected duration (its case's timeline as written), the same on every machine. Pure code. */
#ifndef TCPHARNESS_SHARD_H
#define TCPHARNESS_SHARD_H

#include <stdint.h>

#include "case.h"
#include "ip_address.h"

#define SHARD_MAX_COUNT 1000

/* The stack whose lines (`{linux}`, `{!lwip}`, `{linux<5.4}`) make the expected timeline, at a release
 * newer than any bound: the split may not depend on the target, since every target of a
 * `matrix --targets` runs the same shard. */
#define SHARD_STACK "linux"
#define SHARD_RELEASE 999, 999, 999

/* What one run costs besides its timeline: two namespaces, a veth pair, a capture, the agent, and
 * their teardown; 56 ms on average over the catalogue's runs on a 2-core machine (docs/performance.md). */
#define SHARD_RUN_OVERHEAD_NS (60 * 1000000LL)

/* `--shard K/N`: runner K (1-based) of N. */
struct shard_spec {
	int index; /* 1..count */
	int count; /* 1..SHARD_MAX_COUNT */
};

/* Parses "K/N" into *out: 0, or -1 with *error malloc'd saying what is wrong. */
int shard_parse(const char *text, struct shard_spec *out, char **error);

/* How long a run of c under variant (-1: none) in family is expected to take: the end of its timer
 * chain as written (each line's time, a relative one counted from the end of a `none within T` window
 * or a `for T` hold before it), on SHARD_STACK at SHARD_RELEASE, plus SHARD_RUN_OVERHEAD_NS. Wall time on a
 * loaded machine differs; what matters is that it is the same number everywhere, whatever the target. */
int64_t shard_expected_ns(const struct case_file *c, int variant, enum address_family family);

/* Puts each of count runs into one of shard_count shards (shard_of[i], 0-based): the longest expected
 * first, each to the shard with the least expected time so far (the lowest-numbered on a tie); runs
 * of equal length in order of name, then of index, so neither input order nor memory layout matters.
 * 0, or -1 out of memory. */
int shard_assign(const int64_t *expected_ns, const char *const *names, int count, int shard_count, int *shard_of);

#endif
