/* pkt_code.c - see pkt_code.h. A tokenizer and a recursive-descent evaluator over Python's operator
 * precedence (or < and < not < comparisons < | < & < + - < * // % < unary -), integers only. The
 * same evaluator serves both phases: lowering resolves names to constants and variables, checking
 * resolves tcpi_* fields through the lookup. */
#include "pkt_code.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_info_fields.h"

#define TOKENS_MAX 64
#define TOKEN_TEXT_MAX PKT_CODE_NAME_MAX

enum token_kind { TOKEN_NUMBER, TOKEN_NAME, TOKEN_OPERATOR, TOKEN_END };

struct code_token {
	enum token_kind kind;
	char text[TOKEN_TEXT_MAX];
	int64_t number;
};

struct evaluation {
	struct code_token tokens[TOKENS_MAX];
	int count, at;
	const struct pkt_code_variables *vars; /* lowering: names resolve to these */
	pkt_code_lookup lookup;                /* checking: tcpi_* fields resolve through this */
	void *context;
	char problem[160];                     /* set on the first error */
	char fields_seen[160];                 /* "tcpi_snd_cwnd = 12, ..." for a failure message */
};

__attribute__((format(printf, 2, 3))) static int64_t problem(struct evaluation *e, const char *fmt, ...)
{
	if (!e->problem[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->problem, sizeof e->problem, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* ---- tokens ---- */

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static int tokenize(struct evaluation *e, const char *s, size_t len)
{
	static const char *const operators[] = { "==", "!=", "<=", ">=", "//", "+=", "-=", "<", ">", "+",
						 "-",  "*",  "%",  "&",  "|",  "(",  ")",  "=", "/" };
	e->count = 0;
	size_t i = 0;
	while (i < len) {
		char c = s[i];
		if (c == ' ' || c == '\t') {
			i++;
			continue;
		}
		if (e->count == TOKENS_MAX - 1)
			return (int)problem(e, "an expression of more than %d tokens", TOKENS_MAX - 1) - 1;
		struct code_token *t = &e->tokens[e->count++];
		memset(t, 0, sizeof *t);
		if (c >= '0' && c <= '9') {
			char *end;
			t->kind = TOKEN_NUMBER;
			char digits[32];
			size_t n = 0;
			while (i + n < len && n < sizeof digits - 1 && is_name_char(s[i + n], false))
				n++;
			memcpy(digits, s + i, n);
			digits[n] = '\0';
			t->number = strtoll(digits, &end, 0);
			if (*end)
				return (int)problem(e, "the number '%s'", digits) - 1;
			snprintf(t->text, sizeof t->text, "%s", digits);
			i += n;
		} else if (is_name_char(c, true)) {
			size_t n = 0;
			while (i + n < len && is_name_char(s[i + n], false))
				n++;
			if (n >= TOKEN_TEXT_MAX)
				return (int)problem(e, "a name longer than %d bytes", TOKEN_TEXT_MAX - 1) - 1;
			t->kind = TOKEN_NAME;
			memcpy(t->text, s + i, n);
			i += n;
		} else {
			size_t which = 0, count = sizeof operators / sizeof operators[0];
			while (which < count && strncmp(s + i, operators[which], strlen(operators[which])))
				which++;
			if (which == count || (strlen(operators[which]) > len - i))
				return (int)problem(e, "the character '%c'", c) - 1;
			t->kind = TOKEN_OPERATOR;
			strcpy(t->text, operators[which]);
			i += strlen(operators[which]);
		}
	}
	e->tokens[e->count] = (struct code_token){ .kind = TOKEN_END };
	e->at = 0;
	return 0;
}

static bool accept(struct evaluation *e, const char *text)
{
	const struct code_token *t = &e->tokens[e->at];
	if ((t->kind == TOKEN_OPERATOR || t->kind == TOKEN_NAME) && !strcmp(t->text, text)) {
		e->at++;
		return true;
	}
	return false;
}

/* ---- evaluation ---- */

static int64_t expression(struct evaluation *e);

static int64_t name_value(struct evaluation *e, const char *name)
{
	int64_t value;
	if (tcp_info_constant(name, &value))
		return value;
	if (e->vars)
		for (int i = 0; i < e->vars->count; i++)
			if (!strcmp(e->vars->name[i], name))
				return e->vars->value[i];
	if (!strncmp(name, "tcpi_", 5) && tcp_info_has_field(name)) {
		if (!e->lookup)
			return 0; /* lowering: a field is fine, its value comes when the line runs */
		if (!e->lookup(name, e->context, &value))
			return problem(e, "%s cannot be read", name);
		size_t used = strlen(e->fields_seen);
		if (!strstr(e->fields_seen, name))
			snprintf(e->fields_seen + used, sizeof e->fields_seen - used, "%s%s = %lld", used ? ", " : "",
				 name, (long long)value);
		return value;
	}
	return problem(e, "the name '%s'", name);
}

static int64_t atom(struct evaluation *e)
{
	struct code_token *t = &e->tokens[e->at];
	if (t->kind == TOKEN_NUMBER) {
		e->at++;
		return t->number;
	}
	if (t->kind == TOKEN_NAME && strcmp(t->text, "and") && strcmp(t->text, "or") && strcmp(t->text, "not")) {
		e->at++;
		return name_value(e, t->text);
	}
	if (accept(e, "(")) {
		int64_t v = expression(e);
		if (!accept(e, ")"))
			problem(e, "a missing ')'");
		return v;
	}
	return problem(e, "'%s' where a value belongs", t->kind == TOKEN_END ? "the end" : t->text);
}

static int64_t unary(struct evaluation *e)
{
	if (accept(e, "-"))
		return -unary(e);
	if (accept(e, "+"))
		return unary(e);
	return atom(e);
}

static int64_t product(struct evaluation *e)
{
	int64_t v = unary(e);
	for (;;) {
		if (accept(e, "*")) {
			v *= unary(e);
		} else if (accept(e, "//") || accept(e, "%")) {
			bool modulo = !strcmp(e->tokens[e->at - 1].text, "%");
			int64_t w = unary(e);
			if (w == 0)
				return problem(e, "a division by zero");
			/* Python floors; C truncates toward zero. */
			int64_t q = v / w, r = v % w;
			if (r != 0 && ((r < 0) != (w < 0))) {
				q--;
				r += w;
			}
			v = modulo ? r : q;
		} else if (accept(e, "/")) {
			return problem(e, "'/' (true division)");
		} else {
			return v;
		}
	}
}

static int64_t sum(struct evaluation *e)
{
	int64_t v = product(e);
	for (;;) {
		if (accept(e, "+"))
			v += product(e);
		else if (accept(e, "-"))
			v -= product(e);
		else
			return v;
	}
}

static int64_t bit_and(struct evaluation *e)
{
	int64_t v = sum(e);
	while (accept(e, "&"))
		v &= sum(e);
	return v;
}

static int64_t bit_or(struct evaluation *e)
{
	int64_t v = bit_and(e);
	while (accept(e, "|"))
		v |= bit_and(e);
	return v;
}

/* `a < b <= c` is `a < b and b <= c`, as in Python. */
static int64_t comparison(struct evaluation *e)
{
	static const char *const ops[] = { "==", "!=", "<=", ">=", "<", ">" };
	int64_t left = bit_or(e);
	bool all = true, compared = false;
	for (;;) {
		size_t op = 0;
		while (op < 6 && !accept(e, ops[op]))
			op++;
		if (op == 6)
			return compared ? all : left;
		int64_t right = bit_or(e);
		bool holds = op == 0 ? left == right : op == 1 ? left != right : op == 2 ? left <= right
			   : op == 3 ? left >= right : op == 4 ? left < right : left > right;
		all = all && holds;
		compared = true;
		left = right;
	}
}

static int64_t negation(struct evaluation *e)
{
	if (accept(e, "not"))
		return !negation(e);
	return comparison(e);
}

static int64_t conjunction(struct evaluation *e)
{
	int64_t v = negation(e);
	while (accept(e, "and")) {
		int64_t w = negation(e);
		v = v && w;
	}
	return v;
}

static int64_t expression(struct evaluation *e)
{
	int64_t v = conjunction(e);
	while (accept(e, "or")) {
		int64_t w = conjunction(e);
		v = v || w;
	}
	return v;
}

/* Evaluates s[len] whole: 0 with *value, or -1 with e->problem set. */
static int evaluate(struct evaluation *e, const char *s, size_t len, int64_t *value)
{
	e->problem[0] = '\0';
	if (tokenize(e, s, len) < 0)
		return -1;
	*value = expression(e);
	if (!e->problem[0] && e->tokens[e->at].kind != TOKEN_END)
		problem(e, "'%s' after the expression", e->tokens[e->at].text);
	return e->problem[0] ? -1 : 0;
}

/* ---- statements ---- */

/* Index of the first ',' outside brackets and quotes, or len. */
static size_t top_level_comma(const char *s, size_t len)
{
	int depth = 0;
	char quote = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (quote) {
			quote = c == quote ? 0 : quote;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '(' || c == '[' || c == '{') {
			depth++;
		} else if (c == ')' || c == ']' || c == '}') {
			depth--;
		} else if (c == ',' && depth == 0) {
			return i;
		}
	}
	return len;
}

static size_t trim(const char **s, size_t len)
{
	while (len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		len--;
	}
	while (len > 0 && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
		len--;
	return len;
}

static bool starts_with_word(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	return len >= n && !memcmp(s, word, n) && (len == n || !is_name_char(s[n], false));
}

/* Writes the expression's tokens with variables replaced by their values. */
static int emit_lowered(struct evaluation *e, const struct pkt_code_variables *vars, char *out, size_t size,
			size_t *used)
{
	for (int i = 0; i < e->count; i++) {
		const struct code_token *t = &e->tokens[i];
		char piece[48];
		snprintf(piece, sizeof piece, "%s", t->text);
		for (int v = 0; t->kind == TOKEN_NAME && v < vars->count; v++)
			if (!strcmp(vars->name[v], t->text))
				snprintf(piece, sizeof piece, "%lld", (long long)vars->value[v]);
		int n = snprintf(out + *used, size - *used, "%s%s", i ? " " : "", piece);
		if (n < 0 || (size_t)n >= size - *used)
			return -1;
		*used += (size_t)n;
	}
	if (*used + 2 > size)
		return -1;
	out[(*used)++] = '\n';
	out[*used] = '\0';
	return 0;
}

static int assign(struct evaluation *e, struct pkt_code_variables *vars, const char *name, size_t name_len,
		  const char *op, const char *value_text, size_t value_len)
{
	int64_t value;
	if (evaluate(e, value_text, value_len, &value) < 0)
		return -1;
	for (int i = 0; i < e->count; i++)
		if (e->tokens[i].kind == TOKEN_NAME && !strncmp(e->tokens[i].text, "tcpi_", 5))
			return (int)problem(e, "a variable set from %s", e->tokens[i].text) - 1;
	int slot = 0;
	while (slot < vars->count && (strlen(vars->name[slot]) != name_len || memcmp(vars->name[slot], name, name_len)))
		slot++;
	if (slot == vars->count) {
		if (op[0] != '=')
			return (int)problem(e, "'%.*s %s' before '%.*s' has a value", (int)name_len, name, op,
					    (int)name_len, name) - 1;
		if (slot == PKT_CODE_VARIABLES || name_len >= PKT_CODE_NAME_MAX)
			return (int)problem(e, "more than %d variables", PKT_CODE_VARIABLES) - 1;
		memcpy(vars->name[slot], name, name_len);
		vars->name[slot][name_len] = '\0';
		vars->count++;
		vars->value[slot] = 0;
	}
	vars->value[slot] = op[0] == '+' ? vars->value[slot] + value
			  : op[0] == '-' ? vars->value[slot] - value
					 : value;
	return 0;
}

static int lower_statement(struct evaluation *e, struct pkt_code_variables *vars, const char *s, size_t len,
			   char *out, size_t size, size_t *used)
{
	len = trim(&s, len);
	if (len == 0 || starts_with_word(s, len, "print"))
		return 0;
	if (starts_with_word(s, len, "assert")) {
		const char *condition = s + 6;
		size_t condition_len = top_level_comma(condition, len - 6);
		int64_t ignored;
		e->vars = vars;
		if (evaluate(e, condition, condition_len, &ignored) < 0)
			return -1;
		if (emit_lowered(e, vars, out, size, used) < 0)
			return (int)problem(e, "a block longer than %zu bytes of conditions", size - 1) - 1;
		return 0;
	}
	size_t name_len = 0;
	while (name_len < len && is_name_char(s[name_len], name_len == 0))
		name_len++;
	const char *rest = s + name_len;
	size_t rest_len = trim(&rest, len - name_len);
	if (name_len > 0 && rest_len > 1 && (rest[0] == '=' || ((rest[0] == '+' || rest[0] == '-') && rest[1] == '=')) &&
	    !(rest[0] == '=' && rest[1] == '=')) {
		char op[3] = { rest[0], rest[0] == '=' ? '\0' : '=', '\0' };
		size_t skip = rest[0] == '=' ? 1 : 2;
		e->vars = vars;
		return assign(e, vars, s, name_len, op, rest + skip, rest_len - skip);
	}
	return (int)problem(e, "the statement '%.*s'", (int)(len < 40 ? len : 40), s) - 1;
}

int pkt_code_lower(const char *text, size_t len, struct pkt_code_variables *vars, char *out, size_t size,
		   char **why)
{
	struct evaluation *e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	size_t used = 0;
	out[0] = '\0';
	int rc = 0;
	char quote = 0;
	bool comment = false;
	/* Statements end at ';' or a newline outside quotes; '\' joins lines; '#' starts a comment. */
	char *statement = malloc(len + 1);
	size_t statement_len = 0;
	if (!statement) {
		free(e);
		return -1;
	}
	for (size_t i = 0; i <= len && rc == 0; i++) {
		char c = i < len ? text[i] : '\n';
		if (comment && c != '\n')
			continue;
		if (quote) {
			quote = c == quote ? 0 : quote;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '#') {
			comment = true;
			continue;
		} else if (c == '\\' && i + 1 < len && text[i + 1] == '\n') {
			i++;
			continue;
		} else if (c == ';' || c == '\n') {
			comment = false;
			if (lower_statement(e, vars, statement, statement_len, out, size, &used) < 0)
				rc = 1;
			statement_len = 0;
			continue;
		}
		statement[statement_len++] = c;
	}
	if (rc == 1 && asprintf(why, "%%{ }%%: %s", e->problem) < 0)
		rc = -1;
	free(statement);
	free(e);
	return rc;
}

int pkt_code_check(const char *lowered, pkt_code_lookup lookup, void *context, char **failure)
{
	struct evaluation *e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	e->lookup = lookup;
	e->context = context;
	int rc = 0;
	for (const char *line = lowered; *line && rc == 0;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		int64_t holds;
		e->fields_seen[0] = '\0';
		if (evaluate(e, line, len, &holds) < 0) {
			rc = -1;
			if (asprintf(failure, "%%{ assert %.*s }%%: %s", (int)len, line, e->problem) < 0)
				*failure = NULL;
		} else if (!holds) {
			rc = 1;
			if (asprintf(failure, "assert %.*s failed (%s)", (int)len, line, e->fields_seen) < 0)
				*failure = NULL;
		}
		line += len + (end != NULL);
	}
	free(e);
	return rc;
}
