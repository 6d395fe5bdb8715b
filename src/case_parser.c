/* case_parser.c - see case_parser.h: reads the file, picks the notation's front end (case_notation.h)
 * and hands back a whole case or one diagnostic. */
#include "case_parser.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case_notation.h"
#include "ip_address.h"

#define CASE_FILE_MAX_BYTES (16 * 1024 * 1024)
/* A real case has a few hundred steps; the cap keeps hostile input from costing gigabytes, since
 * every step carries a whole segment_spec (about 2.4 KB). */
#define CASE_MAX_STEPS 10000
#define DEFAULT_TARGET_IP 0xc0000201u /* 192.0.2.1 */

static bool ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), suffix_len = strlen(suffix);
	return len >= suffix_len && strcmp(s + len - suffix_len, suffix) == 0;
}

int case_append_step(struct case_lexer *lx, struct case_file *c, const struct step *s)
{
	if (c->step_count == CASE_MAX_STEPS)
		return lex_fail(lx, 1, "too many steps (max %d)", CASE_MAX_STEPS);
	/* Capacity doubles from 32: a count of 0, or 32 and up at a power of two, fills it. */
	int n = c->step_count;
	if (n == 0 || (n >= 32 && (n & (n - 1)) == 0)) {
		int capacity = n ? 2 * n : 32;
		if (capacity > CASE_MAX_STEPS)
			capacity = CASE_MAX_STEPS;
		struct step *steps = realloc(c->steps, (size_t)capacity * sizeof *steps);
		if (!steps)
			return lex_fail(lx, 1, "out of memory");
		c->steps = steps;
	}
	c->steps[c->step_count++] = *s;
	return 0;
}

int case_parse_text(const char *path, const char *text, size_t len, struct case_file *out, char **error)
{
	return case_parse_text_with(path, text, len, NULL, out, error);
}

int case_parse_text_with(const char *path, const char *text, size_t len, const struct pkt_command_line *pkt,
			 struct case_file *out, char **error)
{
	struct case_lexer lx;
	memset(&lx, 0, sizeof lx);
	lx.path = path ? path : "<case>";
	struct case_file *c = calloc(1, sizeof *c);
	int rc = -1;
	if (c) {
		c->target_ip = DEFAULT_TARGET_IP;
		c->families = FAMILY_ALL;
		c->path = strdup(lx.path);
		if (c->path)
			rc = ends_with(lx.path, ".pkt") ? case_parse_pkt(&lx, text, len, pkt, c)
							 : case_parse_tc(&lx, text, len, c);
		c->lines = lx.lines;
		c->line_count = lx.line_count;
	}
	if (rc == 0) {
		*out = *c;
		free(c);
		return 0;
	}
	case_free(c);
	free(c);
	memset(out, 0, sizeof *out);
	if (!lx.error && asprintf(&lx.error, "%s: out of memory", lx.path) < 0)
		lx.error = NULL;
	*error = lx.error;
	return -1;
}

/* `path: message`, for failures before there is a line to point at. */
static int file_error(const char *path, const char *message, char **error)
{
	if (asprintf(error, "%s: %s", path, message) < 0)
		*error = NULL;
	return -1;
}

/* Reads fd to its end into a malloc'd buffer. Returns 0, or an errno value (EFBIG past the size cap). */
static int read_all(int fd, size_t size_hint, char **text, size_t *len)
{
	/* The size is only a hint: the file may change while we read it, or be a pipe with no size. */
	size_t capacity = size_hint + 4096;
	char *buffer = malloc(capacity);
	*len = 0;
	for (;;) {
		if (!buffer)
			return ENOMEM;
		ssize_t n = read(fd, buffer + *len, capacity - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : 0;
			if (err)
				free(buffer);
			else
				*text = buffer;
			return err;
		}
		*len += (size_t)n;
		if (*len > CASE_FILE_MAX_BYTES) {
			free(buffer);
			return EFBIG;
		}
		if (*len == capacity) {
			capacity *= 2;
			char *grown = realloc(buffer, capacity);
			if (!grown)
				free(buffer);
			buffer = grown;
		}
	}
}

int case_read_text(const char *path, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (st.st_size > CASE_FILE_MAX_BYTES)
		err = EFBIG;
	if (err == 0)
		err = read_all(fd, (size_t)st.st_size, text, len);
	close(fd);
	return err;
}

int case_parse_file(const char *path, struct case_file *out, char **error)
{
	return case_parse_file_with(path, NULL, out, error);
}

int case_parse_file_with(const char *path, const struct pkt_command_line *pkt, struct case_file *out,
			 char **error)
{
	memset(out, 0, sizeof *out);
	char *text;
	size_t len;
	int err = case_read_text(path, &text, &len);
	if (err == EFBIG)
		return file_error(path, "file too large (max 16 MB)", error);
	if (err)
		return file_error(path, strerror(err), error);
	int rc = case_parse_text_with(path, text, len, pkt, out, error);
	free(text);
	return rc;
}

int case_variant_index(const struct case_file *c, const char *name)
{
	for (int i = 0; i < c->variant_count; i++)
		if (strcmp(c->variants[i].name, name) == 0)
			return i;
	return -1;
}