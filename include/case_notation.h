/* case_notation.h - the front ends, one per notation (.tc now), that case_parser picks by file name.
 * Each reads text through the shared lexer into the one case model; none knows about the others. */
#ifndef TCPHARNESS_CASE_NOTATION_H
#define TCPHARNESS_CASE_NOTATION_H

#include <stddef.h>

#include "case.h"
#include "case_lexer.h"

/* Parses text (len bytes, any bytes) into c, which case_parser has zeroed and given its path and
 * defaults. Returns 0, or -1 with lx->error set; c is then freed by the caller whatever it holds. */
int case_parse_tc(struct case_lexer *lx, const char *text, size_t len, struct case_file *c);

#endif
