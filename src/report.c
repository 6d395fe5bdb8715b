/* report.c - see report.h. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>

char *report_run_name(const struct case_file *c, int variant)
{
	char *name = run_case_name(c->path);
	if (variant < 0 || !name)
		return name;
	char *full;
	if (asprintf(&full, "%s@%s", name, c->variants[variant].name) < 0)
		full = NULL;
	free(name);
	return full;
}

const char *report_variant_name(const struct run_record *r)
{
	return r->variant >= 0 ? r->c->variants[r->variant].name : "";
}
