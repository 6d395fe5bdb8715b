/* case_notation.h - the front ends, one per notation (.tc, .pkt), that case_parser picks by file name.
 * Each reads text through the shared lexer into the one case model; none knows about the others. */
#ifndef TCPHARNESS_CASE_NOTATION_H
#define TCPHARNESS_CASE_NOTATION_H

#include <stddef.h>

#include "case.h"
#include "case_lexer.h"

/* Parses text (len bytes, any bytes) into c, which case_parser has zeroed and given its path and
 * defaults. Returns 0, or -1 with lx->error set; c is then freed by the caller whatever it holds. */
int case_parse_tc(struct case_lexer *lx, const char *text, size_t len, struct case_file *c);
/* packetdrill's notation (docs/packetdrill.md): what it cannot run goes to c->unsupported; pkt is
 * packetdrill's command line (case_parser.h), or NULL. */
struct pkt_command_line;
int case_parse_pkt(struct case_lexer *lx, const char *text, size_t len, const struct pkt_command_line *pkt,
		   struct case_file *c);

/* Appends s to c's steps (at most 10000). Returns 0, or -1 with the diagnostic in lx. */
int case_append_step(struct case_lexer *lx, struct case_file *c, const struct step *s);

/* Reads the file at path (at most 16 MB) into a malloc'd *text of *len bytes, for a front end that
 * reads files a script names (a .pkt's defaults.sh). Returns 0, or an errno value (EFBIG: too big). */
int case_read_text(const char *path, char **text, size_t *len);

#endif
