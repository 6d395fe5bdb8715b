/* case.c - see case.h. */
#include "case.h"

#include <stdlib.h>
#include <string.h>

void case_free(struct case_file *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->line_count; i++)
		free(c->lines[i]);
	free(c->lines);
	free(c->steps);
	free(c->path);
	free(c->name);
	/* Zeroed so that a second case_free, or one on a failed parse's output, is harmless. */
	memset(c, 0, sizeof *c);
}

bool step_runs_in_family(const struct step *s, int family)
{
	return !(s->skipped_families & 1u << family);
}

bool step_runs_on(const struct step *s, const char *stack)
{
	if (s->stack_count == 0)
		return true;
	bool named = false;
	for (int i = 0; i < s->stack_count && !named; i++)
		named = strcmp(s->stacks[i], stack) == 0;
	return named != s->stacks_negated;
}
