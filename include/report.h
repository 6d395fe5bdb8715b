/* report.h - the results of one invocation, in case order: what every report after the console
 * (matrix, TAP, JUnit, JSON, HTML) reads. */
#ifndef TCPHARNESS_REPORT_H
#define TCPHARNESS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"
#include "run.h"

/* A try that came before the last one (a retry followed it): its verdict and message. */
struct run_try {
	enum verdict verdict;
	char *message; /* malloc'd or NULL */
	int64_t duration_ns;
};

#define RUN_MAX_TRIES 16

/* One case under one variant, and how it went. */
struct run_record {
	const struct case_file *c;
	int variant;       /* index into c->variants; -1 when the case declares none */
	enum address_family family;
	char *name;        /* `time_wait/lost_final_ack@tw-kept`, `.../ipv6` when the set names families;
			    * malloc'd */
	bool ran;          /* false: never started (the run was interrupted first) */
	const char *target; /* the target's label when one invocation ran several (matrix --targets), else NULL */
	struct case_result result;            /* the last try */
	struct run_try earlier[RUN_MAX_TRIES]; /* the tries before it, in order (--retries, --rerun-failures) */
	int earlier_count;
};


struct run_set {
	struct run_record *runs;
	int count;
	unsigned families; /* the families the invocation asked for (bit 1 << family) */
};

/* What a record shows in every report: its last try's verdict, FLAKY when that passed after a try that
 * did not (never a silent PASS), NOT_RUN when it never started. */
enum shown_verdict {
	/* A single try's verdict shows as itself: (enum shown_verdict)verdict. */
	SHOWN_PASS = VERDICT_PASS,
	SHOWN_FAIL = VERDICT_FAIL,
	SHOWN_SKIP = VERDICT_SKIP,
	SHOWN_ERROR = VERDICT_ERROR,
	SHOWN_FLAKY,
	SHOWN_NOT_RUN,
};
#define SHOWN_VERDICT_COUNT (SHOWN_NOT_RUN + 1)

enum shown_verdict report_shown_verdict(const struct run_record *r);

/* "pass", "fail", "skip", "error", "flaky", "notrun": the word JSON, HTML and the soak read. */
const char *report_shown_word(enum shown_verdict v);

/* "PASS", "FAIL", "SKIP", "ERROR": a single try's verdict as the console prints it. */
const char *report_verdict_label(enum verdict v);

/* How many records show each verdict; [SHOWN_NOT_RUN] counts those that never started. */
void report_count(const struct run_set *set, int counts[SHOWN_VERDICT_COUNT]);

/* The record's tries as text, one a line: `try 1: ERROR: <message's first line>` ... `try 3: PASS`.
 * Malloc'd; NULL out of memory or when there was only one try. */
char *report_tries_text(const struct run_record *r);

/* Frees every record's name, result and earlier tries, and the records (not the cases they point to). */
void run_set_free(struct run_set *set);

/* Whether the set's names carry their family: the invocation asked for more than one. */
bool report_names_families(const struct run_set *set);

/* The display name of a case file plus `@variant` (variant >= 0) and `/family` (family >= 0):
 * `time_wait/lost_final_ack@tw-kept/ipv6`. Malloc'd. */
char *report_run_name(const struct case_file *c, int variant, int family);

/* The name of the variant a record ran, or "" for a case without variants. */
const char *report_variant_name(const struct run_record *r);

/* A case's runs on one target are consecutive in a set: the index after the last run of the case at
 * `first` on its target. */
int report_case_end(const struct run_set *set, int first);

/* Writes a report to path with put (which returns 0, or -1 with *error), then checks every write
 * and the close; the file is new and replaces path (output_file.h), which is never written through.
 * 0, or -1 with *error a malloc'd message naming the file. */
int report_write_file(const char *path, int (*put)(FILE *out, const struct run_set *set, char **error),
		      const struct run_set *set, char **error);

/* The code point of the well-formed UTF-8 sequence at p (RFC 3629: shortest form, no surrogates, at
 * most U+10FFFF) and its length, or 0 when the bytes there are not one: text reports replace those
 * bytes (a case file's comment may hold any) so that their documents always parse. */
size_t report_utf8_decode(const unsigned char *p, size_t available, uint32_t *code_point);

#endif
