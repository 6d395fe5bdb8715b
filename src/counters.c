/* counters.c - see observe.h. MIB counters from a namespace's /proc/<pid>/net/{netstat,snmp,snmp6}. */
#include "observe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_text.h"

#define COUNTER_NAME_SIZE ((int)sizeof(((struct counter_snapshot *)0)->names[0]))
/* /proc/net/netstat is about 6 KiB on 6.18; a file far larger than that is not a MIB table. */
#define COUNTERS_FILE_MAX (256 * 1024)

struct span {
	const char *p;
	size_t n;
};

/* Cuts the next line (without its '\n') from *rest; false when *rest is empty. */
static bool next_line(struct span *rest, struct span *line)
{
	const char *nl;

	if (rest->n == 0)
		return false;
	nl = memchr(rest->p, '\n', rest->n);
	line->p = rest->p;
	line->n = nl ? (size_t)(nl - rest->p) : rest->n;
	rest->p += line->n + (nl ? 1 : 0);
	rest->n -= line->n + (nl ? 1 : 0);
	return true;
}

/* Cuts the next space-separated field from *rest; false when only blanks remain. */
static bool next_field(struct span *rest, struct span *field)
{
	while (rest->n > 0 && (*rest->p == ' ' || *rest->p == '\t')) {
		rest->p++;
		rest->n--;
	}
	if (rest->n == 0)
		return false;
	field->p = rest->p;
	while (rest->n > 0 && *rest->p != ' ' && *rest->p != '\t') {
		rest->p++;
		rest->n--;
	}
	field->n = (size_t)(rest->p - field->p);
	return true;
}

/* Splits "TcpExt: a b c" into prefix "TcpExt" and the fields after the colon. */
static bool split_prefix(struct span line, struct span *prefix, struct span *fields)
{
	const char *colon = memchr(line.p, ':', line.n);

	if (!colon || colon == line.p)
		return false;
	prefix->p = line.p;
	prefix->n = (size_t)(colon - line.p);
	for (size_t i = 0; i < prefix->n; i++)
		if (!isalnum((unsigned char)prefix->p[i]))
			return false;
	fields->p = colon + 1;
	fields->n = line.n - prefix->n - 1;
	return true;
}

/* Decimal int64 with an optional '-' (Tcp MaxConn is -1); false on anything else or overflow. */
static bool parse_value(struct span field, int64_t *value)
{
	bool negative = field.n > 0 && field.p[0] == '-';
	size_t i = negative ? 1 : 0;
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t v = 0;

	if (i == field.n)
		return false;
	for (; i < field.n; i++) {
		unsigned digit;

		if (field.p[i] < '0' || field.p[i] > '9')
			return false;
		digit = (unsigned)(field.p[i] - '0');
		if (v > (limit - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*value = negative ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

int counters_parse(const char *text, size_t len, struct counter_snapshot *out, const char **error)
{
	struct span rest = { text, len }, header, values;
	int count = out->count;

	if (count < 0 || count > COUNTERS_MAX) {
		*error = "counter snapshot has an invalid count";
		return -1;
	}
	while (next_line(&rest, &header)) {
		struct span prefix, value_prefix, names, numbers, name = { 0 }, number = { 0 };

		if (header.n == 0)
			continue;
		if (!split_prefix(header, &prefix, &names)) {
			*error = "line without a \"Prefix:\" header";
			return -1;
		}
		/* gVisor's netstat is the TcpExt header alone: a group with no counters, not an error. */
		if (!next_line(&rest, &values))
			break;
		if (!split_prefix(values, &value_prefix, &numbers) || value_prefix.n != prefix.n ||
		    memcmp(value_prefix.p, prefix.p, prefix.n) != 0) {
			*error = "value line does not carry its header's prefix";
			return -1;
		}
		for (;;) {
			bool more_names = next_field(&names, &name);
			bool more_numbers = next_field(&numbers, &number);

			if (more_names != more_numbers) {
				*error = "header and value lines have different field counts";
				return -1;
			}
			if (!more_names)
				break;
			if (count == COUNTERS_MAX) {
				*error = "more counters than COUNTERS_MAX";
				return -1;
			}
			if (prefix.n + 1 + name.n >= (size_t)COUNTER_NAME_SIZE) {
				*error = "counter name too long";
				return -1;
			}
			if (!parse_value(number, &out->values[count])) {
				*error = "counter value is not a decimal int64";
				return -1;
			}
			snprintf(out->names[count], COUNTER_NAME_SIZE, "%.*s.%.*s", (int)prefix.n, prefix.p,
				 (int)name.n, name.p);
			count++;
		}
	}
	out->count = count;
	return 0;
}

int counters_parse_snmp6(const char *text, size_t len, struct counter_snapshot *out, const char **error)
{
	struct span rest = { text, len }, line, name, number;
	int count = out->count;
	if (count < 0 || count > COUNTERS_MAX) {
		*error = "counter snapshot has an invalid count";
		return -1;
	}
	while (next_line(&rest, &line)) {
		if (!next_field(&line, &name))
			continue;
		/* "Ip6InReceives": the group ends at its '6' (Ip6, Icmp6, Udp6, UdpLite6). */
		const char *six = memchr(name.p, '6', name.n);
		if (!six || six == name.p || (size_t)(six - name.p) + 1 == name.n) {
			*error = "snmp6 name without a group ending in 6";
			return -1;
		}
		if (count == COUNTERS_MAX) {
			*error = "more counters than COUNTERS_MAX";
			return -1;
		}
		if (!next_field(&line, &number) || !parse_value(number, &out->values[count])) {
			*error = "counter value is not a decimal int64";
			return -1;
		}
		if (name.n + 1 >= (size_t)COUNTER_NAME_SIZE) {
			*error = "counter name too long";
			return -1;
		}
		size_t group = (size_t)(six - name.p) + 1;
		snprintf(out->names[count], COUNTER_NAME_SIZE, "%.*s.%.*s", (int)group, name.p, (int)(name.n - group),
			 name.p + group);
		count++;
	}
	out->count = count;
	return 0;
}

/* /proc files report size 0, so read until EOF into a buffer that grows up to COUNTERS_FILE_MAX. */
static int read_proc_file(const char *path, char **text, size_t *len, char **error)
{
	size_t size = 8192, used = 0;
	char *buf = malloc(size);
	int fd;

	if (!buf)
		return error_set(error, "%s: out of memory", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		free(buf);
		return error_set(error, "%s: %s", path, strerror(err));
	}
	for (;;) {
		ssize_t n;

		if (used == size) {
			char *bigger;

			if (size >= COUNTERS_FILE_MAX) {
				close(fd);
				free(buf);
				return error_set(error, "%s: longer than %d bytes", path, COUNTERS_FILE_MAX);
			}
			bigger = realloc(buf, size * 2);
			if (!bigger) {
				close(fd);
				free(buf);
				return error_set(error, "%s: out of memory", path);
			}
			buf = bigger;
			size *= 2;
		}
		n = read(fd, buf + used, size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			free(buf);
			return error_set(error, "%s: %s", path, strerror(err));
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	*text = buf;
	*len = used;
	return 0;
}

int counters_read(pid_t pid_in_namespace, struct counter_snapshot *out, char **error)
{
	static const struct {
		const char *name;
		int (*parse)(const char *, size_t, struct counter_snapshot *, const char **);
		bool optional; /* a kernel without IPv6 has no snmp6 */
	} files[] = { { "netstat", counters_parse, false }, { "snmp", counters_parse, false },
		      { "snmp6", counters_parse_snmp6, true } };

	out->count = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char path[64];
		char *text = NULL;
		size_t len = 0;
		const char *parse_error;
		int rc;

		/* /proc/<pid>/net follows that task's namespace, whoever reads it. */
		snprintf(path, sizeof path, "/proc/%ld/net/%s", (long)pid_in_namespace, files[i].name);
		if (files[i].optional && access(path, F_OK) < 0 && errno == ENOENT)
			continue;
		if (read_proc_file(path, &text, &len, error) < 0)
			return -1;
		rc = files[i].parse(text, len, out, &parse_error);
		free(text);
		if (rc < 0)
			return error_set(error, "%s: %s", path, parse_error);
	}
	return 0;
}

static int find_exact(const struct counter_snapshot *s, const char *name)
{
	for (int i = 0; i < s->count; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return -1;
}

static int find_in_prefix(const struct counter_snapshot *s, const char *prefix, const char *bare)
{
	size_t prefix_len = strlen(prefix);

	for (int i = 0; i < s->count; i++)
		if (strncmp(s->names[i], prefix, prefix_len) == 0 && s->names[i][prefix_len] == '.' &&
		    strcmp(s->names[i] + prefix_len + 1, bare) == 0)
			return i;
	return -1;
}

static int find_anywhere(const struct counter_snapshot *s, const char *bare)
{
	for (int i = 0; i < s->count; i++) {
		const char *dot = strchr(s->names[i], '.');

		if (dot && strcmp(dot + 1, bare) == 0)
			return i;
	}
	return -1;
}

bool counters_get(const struct counter_snapshot *s, const char *name, int64_t *value)
{
	int i;

	if (strchr(name, '.'))
		i = find_exact(s, name);
	else if ((i = find_in_prefix(s, "TcpExt", name)) < 0 && (i = find_in_prefix(s, "Tcp", name)) < 0)
		i = find_anywhere(s, name);
	if (i < 0)
		return false;
	*value = s->values[i];
	return true;
}
