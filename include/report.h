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

/* One case under one variant, and how it went. */
struct run_record {
	const struct case_file *c;
	int variant;       /* index into c->variants; -1 when the case declares none */
	enum address_family family;
	char *name;        /* `time_wait/lost_final_ack@tw-kept`, `.../ipv6` when the set names families;
			    * malloc'd */
	bool ran;          /* false: never started (the run was interrupted first) */
	struct case_result result;
};

struct run_set {
	struct run_record *runs;
	int count;
	unsigned families; /* the families the invocation asked for (bit 1 << family) */
};

/* Whether the set's names carry their family: the invocation asked for more than one. */
bool report_names_families(const struct run_set *set);

/* The display name of a case file plus `@variant` (variant >= 0) and `/family` (family >= 0):
 * `time_wait/lost_final_ack@tw-kept/ipv6`. Malloc'd. */
char *report_run_name(const struct case_file *c, int variant, int family);

/* The name of the variant a record ran, or "" for a case without variants. */
const char *report_variant_name(const struct run_record *r);

/* A case's runs are consecutive in a set: the index after the last run of the case at `first`. */
int report_case_end(const struct run_set *set, int first);

/* Writes a report to path with put (which returns 0, or -1 with *error), then checks every write
 * and the close. 0, or -1 with *error a malloc'd message naming the file. */
int report_write_file(const char *path, int (*put)(FILE *out, const struct run_set *set, char **error),
		      const struct run_set *set, char **error);

/* The code point of the well-formed UTF-8 sequence at p (RFC 3629: shortest form, no surrogates, at
 * most U+10FFFF) and its length, or 0 when the bytes there are not one: text reports replace those
 * bytes (a case file's comment may hold any) so that their documents always parse. */
size_t report_utf8_decode(const unsigned char *p, size_t available, uint32_t *code_point);

#endif
