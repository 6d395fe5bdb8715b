/* case_parser.h - read a case file (DESIGN section 3) into a struct case_file.
 * All-or-nothing: on any error nothing is returned but one `file:line:col: message` diagnostic. */
#ifndef TCPHARNESS_CASE_PARSER_H
#define TCPHARNESS_CASE_PARSER_H

#include <stddef.h>

#include "case.h"

/* Parses text (len bytes, need not be NUL-terminated; may contain any bytes) named path in
 * diagnostics. Returns 0 and fills *out (free with case_free), or -1 and sets *error to a malloc'd
 * `path:line:col: message` (with the offending text quoted) that the caller frees. */
int case_parse_text(const char *path, const char *text, size_t len, struct case_file *out, char **error);

/* Reads the file at path and parses it; I/O errors are reported the same way (`path: message`). */
int case_parse_file(const char *path, struct case_file *out, char **error);

/* packetdrill's command line for .pkt scripts (`run --ip_version=ipv6 -D NAME=VALUE ...`): options
 * taken as the script's own option lines, after them (they win, as on packetdrill's command line),
 * and defines whose names are replaced, as whole words, by their values throughout the script. */
#define PKT_COMMAND_LINE_MAX 32
struct pkt_command_line {
	const char *options[PKT_COMMAND_LINE_MAX]; /* "--tolerance_usecs=10000" */
	int option_count;
	const char *defines[PKT_COMMAND_LINE_MAX]; /* "NAME=VALUE" */
	int define_count;
};

/* case_parse_text and case_parse_file with packetdrill's command line for .pkt files (NULL: none). */
int case_parse_text_with(const char *path, const char *text, size_t len, const struct pkt_command_line *pkt,
			 struct case_file *out, char **error);
int case_parse_file_with(const char *path, const struct pkt_command_line *pkt, struct case_file *out,
			 char **error);

/* Index of the variant with this name, or -1. */
int case_variant_index(const struct case_file *c, const char *name);

#endif
