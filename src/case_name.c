/* case_name.c - see case_name.h. */
#include "case_name.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

struct naming {
	char *dir_real;  /* the file's directory, canonical ("/home/u/cases/time_wait"); "/" at the root */
	const char *base; /* the file's name as given */
	size_t base_len;  /* without ".tc" or ".pkt" */
	int dir_depth;    /* components dir_real has */
	int dir_levels;   /* how many of them, from the end, the name shows */
};

/* A component that names nothing outside itself: no control character, never empty, "." or "..". */
static void put_component(FILE *out, const char *text, size_t len)
{
	if (len == 0 || (len <= 2 && strspn(text, ".") >= len))
		fputc('_', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, out);
	}
}

/* The name showing n->dir_levels directories, then "~copy" when copy > 1; malloc'd, NULL when out of
 * memory. */
static char *name_of(const struct naming *n, int copy)
{
	char *name = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&name, &size);
	if (!out)
		return NULL;
	const char *end = n->dir_real + strlen(n->dir_real);
	const char *start = end;
	for (int level = 0; level < n->dir_levels; level++)
		while (start > n->dir_real && *--start != '/')
			;
	/* start is at the '/' before the first component shown, end after the last. */
	for (const char *p = start; p < end;) {
		const char *component = p + 1;
		const char *slash = memchr(component, '/', (size_t)(end - component));
		const char *stop = slash ? slash : end;
		put_component(out, component, (size_t)(stop - component));
		fputc('/', out);
		p = stop;
	}
	put_component(out, n->base, n->base_len);
	if (copy > 1)
		fprintf(out, "~%d", copy);
	if (fclose(out) != 0) {
		free(name);
		return NULL;
	}
	return name;
}

static int describe(const char *path, struct naming *n, char **error)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir)
		return error_set(error, "out of memory");
	n->dir_real = realpath(dir, NULL);
	int saved = errno;
	free(dir);
	if (!n->dir_real)
		return error_set(error, "%s: its directory: %s", path, strerror(saved));
	n->base = slash ? slash + 1 : path;
	n->base_len = strlen(n->base);
	if (n->base_len > 3 && strcmp(n->base + n->base_len - 3, ".tc") == 0)
		n->base_len -= 3;
	else if (n->base_len > 4 && strcmp(n->base + n->base_len - 4, ".pkt") == 0)
		n->base_len -= 4;
	n->dir_depth = 0;
	if (strcmp(n->dir_real, "/") != 0)
		for (const char *p = n->dir_real; *p; p++)
			n->dir_depth += *p == '/';
	n->dir_levels = n->dir_depth > 0 ? 1 : 0;
	return 0;
}

static bool same_file(const struct naming *a, const struct naming *b)
{
	return strcmp(a->dir_real, b->dir_real) == 0 && a->base_len == b->base_len &&
	       strncmp(a->base, b->base, a->base_len) == 0;
}

/* Shows one more directory of every case that shares its name with another file and has one to show.
 * Whether any did; -1 when out of memory. */
static int widen_shared_names(struct naming *namings, char **names, int count)
{
	bool widened = false;
	bool *shared = calloc((size_t)count, sizeof *shared);
	if (!shared)
		return -1;
	for (int i = 0; i < count; i++)
		for (int j = i + 1; j < count; j++)
			if (strcmp(names[i], names[j]) == 0 && !same_file(&namings[i], &namings[j]))
				shared[i] = shared[j] = true;
	for (int i = 0; i < count; i++)
		if (shared[i] && namings[i].dir_levels < namings[i].dir_depth) {
			namings[i].dir_levels++;
			widened = true;
		}
	free(shared);
	return widened;
}

int case_names_assign(struct case_file *cases, int count, char **error)
{
	struct naming *namings = calloc((size_t)(count ? count : 1), sizeof *namings);
	char **names = calloc((size_t)(count ? count : 1), sizeof *names);
	int rc = namings && names ? 0 : error_set(error, "out of memory");
	for (int i = 0; rc == 0 && i < count; i++)
		rc = describe(cases[i].path, &namings[i], error);
	for (bool again = rc == 0; again;) {
		for (int i = 0; rc == 0 && i < count; i++) {
			free(names[i]);
			names[i] = name_of(&namings[i], 1);
			if (!names[i])
				rc = error_set(error, "out of memory");
		}
		int widened = rc == 0 ? widen_shared_names(namings, names, count) : 0;
		if (widened < 0)
			rc = error_set(error, "out of memory");
		again = widened > 0;
	}
	/* What still shares a name is the same file given twice: later ones are counted. */
	for (int i = 0; rc == 0 && i < count; i++) {
		int copy = 1;
		for (int j = 0; j < i; j++)
			copy += strcmp(names[i], names[j]) == 0;
		cases[i].name = copy > 1 ? name_of(&namings[i], copy) : strdup(names[i]);
		if (!cases[i].name)
			rc = error_set(error, "out of memory");
	}
	for (int i = 0; i < count && namings; i++)
		free(namings[i].dir_real);
	for (int i = 0; i < count && names; i++)
		free(names[i]);
	free(namings);
	free(names);
	return rc;
}
