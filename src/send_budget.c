/* send_budget.c - see send_budget.h. */
#include "send_budget.h"

#include <stdio.h>
#include <stdlib.h>

#include "error_text.h"

#define SECOND_NS 1000000000LL

static bool in_variant(const struct step *s, int variant)
{
	return variant < 0 || (s->variant_mask >> variant & 1u);
}

void send_budget_timeline(const struct case_file *c, int variant, int64_t *at_ns)
{
	int64_t previous = 0;
	for (int i = 0; i < c->step_count; i++) {
		const struct step *s = &c->steps[i];
		if (in_variant(s, variant))
			previous = (s->when.relative ? previous : 0) + s->when.earliest_ns;
		at_ns[i] = previous;
	}
}

static int refuse(const struct case_file *c, const struct step *s, char **error, const char *why)
{
	return error_set(error, "%s:%d:%d: %s\n  %5d | %s", c->path, s->where.line, s->where.col, why, s->where.line,
			 c->lines[s->line_index]);
}

int send_budget_check(const struct case_file *c, int variant, const struct send_budget *budget, char **error)
{
	int64_t *at_ns = malloc((size_t)(c->step_count ? c->step_count : 1) * sizeof *at_ns);
	int *injections = malloc((size_t)(c->step_count ? c->step_count : 1) * sizeof *injections);
	if (!at_ns || !injections) {
		free(at_ns);
		free(injections);
		return error_set(error, "out of memory");
	}
	send_budget_timeline(c, variant, at_ns);
	int rc = 0, count = 0;
	for (int i = 0; i < c->step_count && rc == 0; i++) {
		const struct step *s = &c->steps[i];
		if (!in_variant(s, variant))
			continue;
		if (s->kind == STEP_INJECT)
			injections[count++] = i;
		if (s->kind == STEP_STORM && !budget->allow_storm) {
			char why[256];
			snprintf(why, sizeof why, "a storm of %u connections sends %u segments as fast as the link takes "
						  "them; on a lab target it needs --allow-storm (then it is paced at "
						  "--max-pps %u)", s->u.storm.count, 3 * s->u.storm.count, budget->max_pps);
			rc = refuse(c, s, error, why);
		}
	}
	/* The busiest second starts at some injection: count each one's following second. */
	for (int a = 0; a < count && rc == 0; a++) {
		unsigned in_window = 0;
		for (int b = 0; b < count; b++) {
			int64_t after = at_ns[injections[b]] - at_ns[injections[a]];
			in_window += after >= 0 && after < SECOND_NS;
		}
		if (in_window > budget->max_pps) {
			char why[256];
			snprintf(why, sizeof why, "%u segments within one second from this line on, over the lab send "
						  "budget (--max-pps %u)", in_window, budget->max_pps);
			rc = refuse(c, &c->steps[injections[a]], error, why);
		}
	}
	free(at_ns);
	free(injections);
	return rc;
}
