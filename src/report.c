/* report.c - see report.h. */
#include "report.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

bool report_names_families(const struct run_set *set)
{
	return (set->families & (set->families - 1)) != 0;
}

char *report_run_name(const struct case_file *c, int variant, int family)
{
	char *name = run_case_name(c->path);
	if (!name)
		return NULL;
	char *full;
	if (asprintf(&full, "%s%s%s%s%s", name, variant >= 0 ? "@" : "", variant >= 0 ? c->variants[variant].name : "",
		     family >= 0 ? "/" : "", family >= 0 ? family_name((enum address_family)family) : "") < 0)
		full = NULL;
	free(name);
	return full;
}

const char *report_variant_name(const struct run_record *r)
{
	return r->variant >= 0 ? r->c->variants[r->variant].name : "";
}

int report_case_end(const struct run_set *set, int first)
{
	int i = first;
	while (i < set->count && set->runs[i].c == set->runs[first].c)
		i++;
	return i;
}

int report_write_file(const char *path, int (*put)(FILE *out, const struct run_set *set, char **error),
		      const struct run_set *set, char **error)
{
	FILE *out = fopen(path, "w");
	if (!out)
		return error_set(error, "%s: %s", path, strerror(errno));
	int rc = put(out, set, error);
	bool write_failed = ferror(out) != 0;
	write_failed |= fclose(out) != 0;
	if (write_failed && rc == 0)
		rc = error_set(error, "%s: %s", path, strerror(errno));
	return rc;
}

size_t report_utf8_decode(const unsigned char *p, size_t available, uint32_t *code_point)
{
	static const struct {
		unsigned char mask, lead; /* the lead byte's fixed bits: (p[0] & mask) == lead */
		uint32_t min;             /* the least code point this length may encode */
	} forms[] = { { 0x80, 0x00, 0 }, { 0xe0, 0xc0, 0x80 }, { 0xf0, 0xe0, 0x800 }, { 0xf8, 0xf0, 0x10000 } };
	for (size_t len = 1; len <= 4; len++) {
		if ((p[0] & forms[len - 1].mask) != forms[len - 1].lead)
			continue;
		if (len > available)
			return 0;
		uint32_t cp = (uint32_t)(p[0] & ~forms[len - 1].mask);
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < forms[len - 1].min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		*code_point = cp;
		return len;
	}
	return 0;
}
