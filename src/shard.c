/* shard.c - see shard.h. */
#include "shard.h"

#include <stdlib.h>
#include <string.h>

#include "error_text.h"

int shard_parse(const char *text, struct shard_spec *out, char **error)
{
	char *end;
	long k = strtol(text, &end, 10);
	long n = *end == '/' && end[1] >= '0' && end[1] <= '9' ? strtol(end + 1, &end, 10) : -1;
	if (*end || text[0] < '0' || text[0] > '9' || n < 1 || n > SHARD_MAX_COUNT || k < 1 || k > n)
		return error_set(error, "--shard takes K/N, runner K of N (1 <= K <= N <= %d), not '%s'",
				 SHARD_MAX_COUNT, text);
	*out = (struct shard_spec){ (int)k, (int)n };
	return 0;
}

/* What a step waits out after its own time before the next relative step counts from it (run.c). */
static int64_t step_lasts_ns(const struct step *s)
{
	if (s->kind == STEP_EXPECT_NONE)
		return s->u.none_window_ns;
	if (s->kind == STEP_EXPECT_STATE || s->kind == STEP_EXPECT_COUNTER)
		return s->hold_ns;
	return 0;
}

int64_t shard_expected_ns(const struct case_file *c, int variant, enum address_family family)
{
	int64_t previous = 0, end = 0;
	for (int i = 0; i < c->step_count; i++) {
		const struct step *s = &c->steps[i];
		if ((variant >= 0 && !(s->variant_mask >> variant & 1u)) || !step_runs_on(s, SHARD_STACK, release_code(SHARD_RELEASE)) ||
		    !step_runs_in_family(s, (int)family))
			continue;
		previous = (s->when.relative ? previous : 0) + s->when.earliest_ns + step_lasts_ns(s);
		if (previous > end)
			end = previous;
	}
	return end + SHARD_RUN_OVERHEAD_NS;
}

struct sort_entry {
	int64_t expected_ns;
	const char *name;
	int index;
};

static int longest_first(const void *a, const void *b)
{
	const struct sort_entry *x = a, *y = b;
	if (x->expected_ns != y->expected_ns)
		return x->expected_ns > y->expected_ns ? -1 : 1;
	int by_name = strcmp(x->name, y->name);
	if (by_name)
		return by_name;
	return (x->index > y->index) - (x->index < y->index);
}

int shard_assign(const int64_t *expected_ns, const char *const *names, int count, int shard_count, int *shard_of)
{
	struct sort_entry *order = malloc((size_t)(count ? count : 1) * sizeof *order);
	int64_t *load = calloc((size_t)shard_count, sizeof *load);
	if (!order || !load) {
		free(order);
		free(load);
		return -1;
	}
	for (int i = 0; i < count; i++)
		order[i] = (struct sort_entry){ expected_ns[i], names[i], i };
	qsort(order, (size_t)count, sizeof *order, longest_first);
	/* Longest processing time first (Graham, 1969): within 4/3 of the best split, and exact to the
	 * nanosecond, so every runner computes the same one. */
	for (int i = 0; i < count; i++) {
		int least = 0;
		for (int s = 1; s < shard_count; s++)
			if (load[s] < load[least])
				least = s;
		load[least] += order[i].expected_ns;
		shard_of[order[i].index] = least;
	}
	free(order);
	free(load);
	return 0;
}
