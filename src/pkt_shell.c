/* pkt_shell.c - see pkt_shell.h. Only the forms the packetdrill suites use are understood (sysctl,
 * echo into /proc/sys, set_sysctls.py, a sourced defaults.sh, and two commands that a fresh network
 * namespace already satisfies); every other line is unsupported, by name. */
#include "pkt_shell.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_notation.h"

#define WORD_MAX 160
#define WORDS_MAX 24
#define FILE_LINES_MAX 1000

struct words {
	char word[WORDS_MAX][WORD_MAX];
	int count;
};

__attribute__((format(printf, 3, 4))) static int say(char **why, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
	if (*why)
		for (char *c = *why; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
	return rc;
}

/* ---- $(( )) arithmetic: integers, + - * / and parentheses ---- */

struct arithmetic {
	const char *s;
	size_t len, pos;
	bool bad;
};

static int64_t sum(struct arithmetic *a);

static void skip_spaces(struct arithmetic *a)
{
	while (a->pos < a->len && a->s[a->pos] == ' ')
		a->pos++;
}

static int64_t factor(struct arithmetic *a)
{
	skip_spaces(a);
	if (a->pos < a->len && a->s[a->pos] == '(') {
		a->pos++;
		int64_t v = sum(a);
		skip_spaces(a);
		if (a->pos >= a->len || a->s[a->pos] != ')')
			a->bad = true;
		a->pos++;
		return v;
	}
	int64_t v = 0;
	size_t start = a->pos;
	while (a->pos < a->len && a->s[a->pos] >= '0' && a->s[a->pos] <= '9' && v < INT64_MAX / 100)
		v = v * 10 + (a->s[a->pos++] - '0');
	if (a->pos == start || (a->pos < a->len && a->s[a->pos] >= '0' && a->s[a->pos] <= '9'))
		a->bad = true;
	return v;
}

static int64_t product(struct arithmetic *a)
{
	int64_t v = factor(a);
	for (skip_spaces(a); !a->bad && a->pos < a->len && (a->s[a->pos] == '*' || a->s[a->pos] == '/'); skip_spaces(a)) {
		char op = a->s[a->pos++];
		int64_t w = factor(a);
		if (op == '/' && w == 0)
			a->bad = true;
		else if (op == '/')
			v /= w;
		else if (w != 0 && (v > INT64_MAX / w || v < -INT64_MAX / w))
			a->bad = true;
		else
			v *= w;
	}
	return v;
}

static int64_t sum(struct arithmetic *a)
{
	int64_t v = product(a);
	for (skip_spaces(a); !a->bad && a->pos < a->len && (a->s[a->pos] == '+' || a->s[a->pos] == '-'); skip_spaces(a)) {
		char op = a->s[a->pos++];
		int64_t w = product(a);
		if ((op == '+' && v > INT64_MAX - w) || (op == '-' && v < INT64_MIN + w))
			a->bad = true;
		else
			v = op == '+' ? v + w : v - w;
	}
	return v;
}

/* ---- words ---- */

static bool append_char(char *word, size_t *len, char ch)
{
	if (*len + 1 >= WORD_MAX)
		return false;
	word[(*len)++] = ch;
	word[*len] = '\0';
	return true;
}

/* Splits a line into words as sh would for these simple lines: blanks separate, quotes group, and
 * `$((...))` is computed. Returns 0, or PKT_SHELL_UNSUPPORTED with *why for any other expansion. */
static int split_words(const char *text, size_t len, struct words *out, char **why)
{
	out->count = 0;
	size_t i = 0;
	for (;;) {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= len || text[i] == '#')
			return 0;
		if (out->count == WORDS_MAX)
			return say(why, PKT_SHELL_UNSUPPORTED, "a shell line of more than %d words", WORDS_MAX);
		char *word = out->word[out->count++];
		size_t wlen = 0;
		word[0] = '\0';
		char quote = 0;
		for (; i < len && (quote || (text[i] != ' ' && text[i] != '\t')); i++) {
			char ch = text[i];
			if (quote && ch == quote) {
				quote = 0;
				continue;
			}
			if (!quote && (ch == '"' || ch == '\'')) {
				quote = ch;
				continue;
			}
			if (ch == '$' && quote != '\'') {
				if (len - i < 4 || memcmp(text + i, "$((", 3) != 0)
					return say(why, PKT_SHELL_UNSUPPORTED, "the shell expansion in '%.*s'", (int)len, text);
				const char *end = NULL;
				for (size_t j = i + 3; j + 1 < len && !end; j++)
					if (text[j] == ')' && text[j + 1] == ')')
						end = text + j;
				if (!end)
					return say(why, PKT_SHELL_UNSUPPORTED, "the shell expansion in '%.*s'", (int)len, text);
				struct arithmetic a = { text + i + 3, (size_t)(end - text) - i - 3, 0, false };
				int64_t value = sum(&a);
				if (a.bad || a.pos != a.len)
					return say(why, PKT_SHELL_UNSUPPORTED, "the arithmetic in '%.*s'", (int)len, text);
				char number[24];
				snprintf(number, sizeof number, "%lld", (long long)value);
				for (const char *c = number; *c; c++)
					if (!append_char(word, &wlen, *c))
						return say(why, PKT_SHELL_UNSUPPORTED, "a word too long in '%.*s'", (int)len, text);
				i = (size_t)(end - text) + 1;
				continue;
			}
			if (!append_char(word, &wlen, ch))
				return say(why, PKT_SHELL_UNSUPPORTED, "a word too long in '%.*s'", (int)len, text);
		}
		if (quote)
			return say(why, PKT_SHELL_ERROR, "unterminated quote in '%.*s'", (int)len, text);
	}
}

/* Drops `> /dev/null`, `>/dev/null`, `2>&1`, `2>/dev/null`: output the harness never shows. */
static void drop_discarded_output(struct words *w)
{
	int kept = 0;
	for (int i = 0; i < w->count; i++) {
		const char *word = w->word[i];
		bool to_null_next = (!strcmp(word, ">") || !strcmp(word, "2>")) && i + 1 < w->count &&
				    !strcmp(w->word[i + 1], "/dev/null");
		if (to_null_next) {
			i++;
			continue;
		}
		if (!strcmp(word, ">/dev/null") || !strcmp(word, "2>/dev/null") || !strcmp(word, "2>&1") ||
		    !strcmp(word, "&>/dev/null"))
			continue;
		if (kept != i)
			memcpy(w->word[kept], word, WORD_MAX);
		kept++;
	}
	w->count = kept;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), n = strlen(suffix);
	return len >= n && strcmp(s + len - n, suffix) == 0;
}

/* ---- sysctls ---- */

/* `net.ipv4.tcp_rmem` or `/proc/sys/net/ipv4/tcp_rmem`, and its value: only per-namespace keys. */
static int add_sysctl(struct pkt_shell_effect *out, const char *key, const char *value, bool in_file, char **why)
{
	char dotted[SYSCTL_KEY_MAX];
	const char *proc = "/proc/sys/";
	if (!strncmp(key, proc, strlen(proc)))
		key += strlen(proc);
	if (strlen(key) >= sizeof dotted || strlen(value) >= SYSCTL_VALUE_MAX)
		return say(why, PKT_SHELL_UNSUPPORTED, "sysctl %.60s (too long)", key);
	size_t n = 0;
	for (; key[n]; n++) {
		char ch = key[n] == '/' ? '.' : key[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return say(why, PKT_SHELL_UNSUPPORTED, "sysctl key '%.60s'", key);
		dotted[n] = ch;
	}
	dotted[n] = '\0';
	/* Anything outside net.* would reach the host, not the case's namespace. */
	if (strncmp(dotted, "net.", 4) != 0 || strstr(dotted, "..") || dotted[n - 1] == '.')
		return say(why, PKT_SHELL_UNSUPPORTED, "sysctl %s (not a network namespace's)", dotted);
	for (const char *v = value; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			return say(why, PKT_SHELL_UNSUPPORTED, "sysctl %s: a value with control bytes", dotted);
	if (out->sysctl_count == PKT_SHELL_MAX_SYSCTLS)
		return say(why, PKT_SHELL_UNSUPPORTED, "more than %d sysctls on one line", PKT_SHELL_MAX_SYSCTLS);
	struct sysctl_setting *s = &out->sysctls[out->sysctl_count++];
	memset(s, 0, sizeof *s);
	strcpy(s->key, dotted);
	strcpy(s->value, value);
	s->best_effort = in_file;
	return PKT_SHELL_DONE;
}

/* `KEY=VALUE` words from index first on. */
static int add_assignments(struct pkt_shell_effect *out, struct words *w, int first, bool in_file, char **why)
{
	if (first >= w->count)
		return say(why, PKT_SHELL_UNSUPPORTED, "'%s' without KEY=VALUE", w->word[0]);
	for (int i = first; i < w->count; i++) {
		char *equals = strchr(w->word[i], '=');
		if (!equals)
			return say(why, PKT_SHELL_UNSUPPORTED, "'%s %s' (reads a sysctl)", w->word[0], w->word[i]);
		*equals = '\0';
		int rc = add_sysctl(out, w->word[i], equals + 1, in_file, why);
		if (rc != PKT_SHELL_DONE)
			return rc;
	}
	return PKT_SHELL_DONE;
}

/* sysctl [-q] [-w] [-e] KEY=VALUE ... */
static int run_sysctl(struct pkt_shell_effect *out, struct words *w, bool in_file, char **why)
{
	int i = 1;
	while (i < w->count && w->word[i][0] == '-') {
		if (strcmp(w->word[i], "-q") && strcmp(w->word[i], "-w") && strcmp(w->word[i], "-e"))
			return say(why, PKT_SHELL_UNSUPPORTED, "sysctl %s", w->word[i]);
		i++;
	}
	return add_assignments(out, w, i, in_file, why);
}

/* echo VALUE... > /proc/sys/KEY */
static int run_echo(struct pkt_shell_effect *out, struct words *w, bool in_file, char **why)
{
	if (w->count < 4 || strcmp(w->word[w->count - 2], ">") || strncmp(w->word[w->count - 1], "/proc/sys/", 10))
		return say(why, PKT_SHELL_UNSUPPORTED, "echo other than 'echo VALUE > /proc/sys/...'");
	char value[SYSCTL_VALUE_MAX] = "";
	for (int i = 1; i < w->count - 2; i++) {
		if (strlen(value) + strlen(w->word[i]) + 2 > sizeof value)
			return say(why, PKT_SHELL_UNSUPPORTED, "echo: value too long");
		if (i > 1)
			strcat(value, " ");
		strcat(value, w->word[i]);
	}
	return add_sysctl(out, w->word[w->count - 1], value, in_file, why);
}

/* ---- sourced files ---- */

static int source_file(struct pkt_shell_effect *out, const char *name, const char *dir, char **why)
{
	char *path;
	if (asprintf(&path, "%s%s%s", name[0] == '/' ? "" : dir, name[0] == '/' ? "" : "/", name) < 0)
		return PKT_SHELL_ERROR;
	char *text;
	size_t len;
	int err = case_read_text(path, &text, &len);
	free(path);
	if (err)
		return say(why, PKT_SHELL_UNSUPPORTED, "%s: %s", name, strerror(err));
	snprintf(out->file, sizeof out->file, "%s", name);
	int rc = PKT_SHELL_DONE;
	size_t start = 0;
	for (int number = 1; start < len && rc == PKT_SHELL_DONE; number++) {
		const char *newline = memchr(text + start, '\n', len - start);
		size_t end = newline ? (size_t)(newline - text) : len;
		if (out->file_line_count == FILE_LINES_MAX) {
			rc = say(why, PKT_SHELL_UNSUPPORTED, "%s: more than %d lines", name, FILE_LINES_MAX);
			break;
		}
		struct pkt_shell_file_line *lines =
			realloc(out->file_lines, (size_t)(out->file_line_count + 1) * sizeof *lines);
		char *line = strndup(text + start, end - start);
		if (!lines || !line) {
			free(line);
			if (lines)
				out->file_lines = lines;
			rc = PKT_SHELL_ERROR;
			break;
		}
		out->file_lines = lines;
		lines[out->file_line_count++] = (struct pkt_shell_file_line){ number, line };
		start = end + 1;
	}
	free(text);
	return rc;
}

/* `ethtool -K DEV tso off [gso off]`: scripts that want the stack's segments as a wire carries them
 * turn their tun device's segmentation offloads off; any other feature, or turning one on, is more
 * than the sandbox's link setting says. */
static int run_ethtool(struct pkt_shell_effect *out, const struct words *w, char **why)
{
	if (w->count < 5 || w->count % 2 == 0 || strcmp(w->word[1], "-K"))
		return say(why, PKT_SHELL_UNSUPPORTED, "ethtool other than 'ethtool -K DEV tso off'");
	for (int i = 3; i < w->count; i += 2)
		if ((strcmp(w->word[i], "tso") && strcmp(w->word[i], "gso")) || strcmp(w->word[i + 1], "off"))
			return say(why, PKT_SHELL_UNSUPPORTED, "ethtool -K %.20s %.20s", w->word[i], w->word[i + 1]);
	out->offloads_off = true;
	return PKT_SHELL_DONE;
}

/* ---- lines ---- */

bool pkt_shell_is_cleanup(const char *text, size_t len)
{
	return memmem(text, len, "/tmp/sysctl_restore_", 20) != NULL;
}

int pkt_shell_line(const char *text, size_t len, const char *dir, bool in_file, struct pkt_shell_effect *out,
		   char **why)
{
	memset(out, 0, sizeof *out);
	*why = NULL;
	struct words *w = malloc(sizeof *w);
	if (!w)
		return PKT_SHELL_ERROR;
	int rc = split_words(text, len, w, why);
	if (rc == PKT_SHELL_DONE)
		drop_discarded_output(w);
	if (rc != PKT_SHELL_DONE || w->count == 0) {
		free(w);
		return rc;
	}
	const char *command = w->word[0];
	if (!strcmp(command, "sysctl")) {
		rc = run_sysctl(out, w, in_file, why);
	} else if (!strcmp(command, "echo")) {
		rc = run_echo(out, w, in_file, why);
	} else if (ends_with(command, "set_sysctls.py")) {
		rc = add_assignments(out, w, 1, in_file, why);
	} else if (w->count >= 3 && !strcmp(command, "ip") && !strcmp(w->word[1], "tcp_metrics") &&
		   !strcmp(w->word[2], "flush")) {
		/* A fresh namespace has no TCP metrics to flush. */
		rc = PKT_SHELL_DONE;
	} else if (w->count == 7 && !strcmp(command, "tc") && !strcmp(w->word[1], "qdisc") &&
		   (!strcmp(w->word[2], "add") || !strcmp(w->word[2], "replace")) && !strcmp(w->word[3], "dev") &&
		   !strcmp(w->word[5], "root") && !strcmp(w->word[6], "pfifo")) {
		/* Scripts ask for pfifo so that no fq paces them; the sandbox's veth has no qdisc at all. */
		rc = PKT_SHELL_DONE;
	} else if (!strcmp(command, "ethtool")) {
		rc = run_ethtool(out, w, why);
	} else if (ends_with(command, ".sh") && w->count == 1 && !pkt_shell_is_cleanup(text, len)) {
		rc = in_file ? say(why, PKT_SHELL_UNSUPPORTED, "%s sourced from a sourced file", command)
			     : source_file(out, command, dir, why);
	} else if (pkt_shell_is_cleanup(text, len)) {
		rc = PKT_SHELL_DONE;
	} else {
		rc = say(why, PKT_SHELL_UNSUPPORTED, "the shell command '%.60s'", command);
	}
	free(w);
	return rc;
}

size_t pkt_shell_command_prefix(const char *text, size_t len)
{
	size_t i = 0;
	for (bool first = true;; first = false) {
		size_t word = i;
		while (word < len && (text[word] == ' ' || text[word] == '\t'))
			word++;
		if (word == len || (!first && text[word] != '-'))
			return i;
		while (word < len && text[word] != ' ' && text[word] != '\t')
			word++;
		i = word;
	}
}

void pkt_shell_effect_free(struct pkt_shell_effect *effect)
{
	for (int i = 0; i < effect->file_line_count; i++)
		free(effect->file_lines[i].text);
	free(effect->file_lines);
	effect->file_lines = NULL;
	effect->file_line_count = 0;
}
