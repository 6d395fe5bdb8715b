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

uint32_t release_code(uint32_t major, uint32_t minor, uint32_t patch)
{
	return major * 1000000u + minor * 1000u + patch;
}

size_t release_scan(const char *text, size_t len, uint32_t *code)
{
	uint32_t part[3] = { 0, 0, 0 };
	size_t pos = 0;
	int parts = 0;
	while (parts < 3) {
		size_t digits = 0;
		while (pos < len && text[pos] >= '0' && text[pos] <= '9' && digits < 4) {
			part[parts] = part[parts] * 10 + (uint32_t)(text[pos] - '0');
			pos++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		parts++;
		if (parts == 3 || pos + 1 >= len || text[pos] != '.' || text[pos + 1] < '0' || text[pos + 1] > '9')
			break;
		pos++;
	}
	if (parts < 2)
		return 0;
	*code = release_code(part[0], part[1], part[2]);
	return pos;
}

static bool bound_admits(const struct release_bound *b, uint32_t release)
{
	switch (b->op) {
	case RELEASE_ANY: return true;
	case RELEASE_LT: return release && release < b->release;
	case RELEASE_LE: return release && release <= b->release;
	case RELEASE_EQ: return release && release == b->release;
	case RELEASE_GE: return release && release >= b->release;
	case RELEASE_GT: return release && release > b->release;
	}
	return false;
}

bool step_runs_in_family(const struct step *s, int family)
{
	return !(s->skipped_families & 1u << family);
}

bool step_runs_on(const struct step *s, const char *stack, uint32_t release)
{
	if (s->stack_count == 0)
		return true;
	bool named = false;
	for (int i = 0; i < s->stack_count && !named; i++)
		named = strcmp(s->stacks[i], stack) == 0 && bound_admits(&s->stack_bounds[i], release);
	return named != s->stacks_negated;
}
