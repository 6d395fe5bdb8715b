/* fuzz_case_parser.c - libFuzzer target: arbitrary bytes as a case file and as a packetdrill script,
 * through the parser's memory entry point. The parser promises all-or-nothing on any bytes: a parsed
 * case or exactly one `path:line:col: message`; anything else (a crash, a leak, a diagnostic without
 * its location) is a bug. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case_parser.h"

/* The same bytes through both front ends. The .pkt path's directory does not exist, so a script's
 * relative `./defaults.sh` is a SKIP rather than a read of whatever lies around the fuzzer. */
static const char *const fuzz_paths[] = { "fuzz.tc", "fuzz-nowhere/fuzz.pkt" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Steps run.c carries out on rs->peers[step->peer]: a parsed one without a peer would index -1. */
static bool needs_peer(enum step_kind kind)
{
	switch (kind) {
	case STEP_INJECT:
	case STEP_EXPECT_SEGMENT:
	case STEP_EXPECT_STATE:
	case STEP_EXPECT_CLOCK:
	case STEP_INCARNATION:
	case STEP_TSCLOCK_JUMP:
		return true;
	default:
		return false;
	}
}

static void parse_as(const char *path, const uint8_t *data, size_t size)
{
	struct case_file c;
	char *error = NULL;

	if (case_parse_text(path, (const char *)data, size, &c, &error) == 0) {
		if (error)
			__builtin_trap(); /* success must leave no diagnostic behind */
		/* Walk what run.c walks, so a step or variant index out of range trips ASan here. */
		for (int i = 0; i < c.variant_count; i++)
			if (case_variant_index(&c, c.variants[i].name) < 0)
				__builtin_trap();
		for (int i = 0; i < c.step_count; i++) {
			const struct step *s = &c.steps[i];
			if (s->line_index < 0 || s->line_index >= c.line_count ||
			    s->peer < -1 || s->peer >= c.peer_count)
				__builtin_trap();
			if (needs_peer(s->kind) && s->peer < 0)
				__builtin_trap();
			if (s->kind == STEP_EXPECT_CLOCK &&
			    (s->u.clock.other_peer < 0 || s->u.clock.other_peer >= c.peer_count))
				__builtin_trap();
			(void)strlen(c.lines[s->line_index]);
			if (s->stack_count < 0 || s->stack_count > CASE_MAX_STACKS || (s->stack_count && !c.per_stack))
				__builtin_trap();
			for (int j = 0; j < s->stack_count; j++)
				(void)strlen(s->stacks[j]);
			if (s->kind == STEP_EXPECT_TCP_INFO &&
			    !memchr(s->u.tcp_info.conditions, '\0', sizeof s->u.tcp_info.conditions))
				__builtin_trap();
		}
		for (int i = 0; i < c.unsupported_count; i++)
			if (c.unsupported[i].where.line < 1 || c.unsupported[i].where.line > c.line_count ||
			    !memchr(c.unsupported[i].what, '\0', sizeof c.unsupported[i].what))
				__builtin_trap();
		/* The capability probe sends from the first peer. */
		for (int i = 0; i < c.require_count; i++)
			if (c.requires[i].kind == REQUIRE_OPTION && c.peer_count == 0)
				__builtin_trap();
		case_free(&c);
		return;
	}
	/* A refusal names the file first; out of memory is the one refusal without a message. */
	if (error && (strncmp(error, path, strlen(path)) != 0 || error[strlen(path)] != ':'))
		__builtin_trap();
	free(error);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof fuzz_paths / sizeof fuzz_paths[0]; i++)
		parse_as(fuzz_paths[i], data, size);
	return 0;
}
