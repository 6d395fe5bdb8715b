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

/* Index of the variant with this name, or -1. */
int case_variant_index(const struct case_file *c, const char *name);

#endif
