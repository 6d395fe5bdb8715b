/* report_tap.c - see report_tap.h. */
#include "report_tap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

/* Text on a test point's line. TAP 13 reads `#` as the start of a directive and `\` as its escape, so
 * both are escaped; a control byte would break the line, so it shows as '?'. */
static void put_line_text(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char byte = (unsigned char)text[i];
		if (byte == '#' || byte == '\\')
			fputc('\\', out);
		fputc(byte < 0x20 || byte == 0x7f ? '?' : byte, out);
	}
}

/* `  key: "text"` as a YAML double-quoted scalar with only the escapes TAP::Parser's YAMLish reader
 * knows (\" \\ \xNN); `~` (null) when there is no text. */
static void put_yaml_field(FILE *out, const char *key, const char *text)
{
	fprintf(out, "  %s: ", key);
	if (!text || !*text) {
		fputs("~\n", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputs("\"\n", out);
}

/* A literal block shows the diagnostic exactly as the console prints it, but it cannot hold control
 * characters, and its first line sets the indentation, so that line must not start with white space. */
static bool fits_literal_block(const char *text)
{
	if (!*text || *text == ' ' || *text == '\t')
		return false;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

static void put_yaml_block(FILE *out, const char *key, const char *text)
{
	if (!text || !fits_literal_block(text)) {
		put_yaml_field(out, key, text);
		return;
	}
	fprintf(out, "  %s: |\n", key);
	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n");
		fprintf(out, "    %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

static void put_test_point(FILE *out, int number, const struct run_record *r)
{
	const struct case_result *result = &r->result;
	enum shown_verdict shown = report_shown_verdict(r);
	bool broke = shown == SHOWN_FAIL || shown == SHOWN_ERROR;
	fprintf(out, "%s %d - ", broke ? "not ok" : "ok", number);
	put_line_text(out, r->name, strlen(r->name));
	if (shown == SHOWN_SKIP) {
		const char *reason = result->message ? result->message : "";
		fputs(" # SKIP ", out);
		put_line_text(out, reason, strcspn(reason, "\n"));
	} else if (shown == SHOWN_ERROR) {
		/* Not a TAP directive (those are SKIP and TODO): the test point fails, and the comment says
		 * the harness, not the stack, broke it. */
		fputs(" # harness error", out);
	} else if (shown == SHOWN_FLAKY) {
		fprintf(out, " # flaky: passed on try %d", r->earlier_count + 1);
	}
	fputc('\n', out);
	char *tries = report_tries_text(r);
	if (broke || tries) {
		fputs("  ---\n", out);
		fprintf(out, "  verdict: %s\n", report_shown_word(shown));
		if (broke)
			put_yaml_block(out, "message", result->message);
		if (tries)
			put_yaml_block(out, "tries", tries);
		put_yaml_field(out, "outcome", result->outcome);
		put_yaml_field(out, "pcap", result->pcap_path);
		fprintf(out, "  duration_ms: %.0f\n", (double)result->duration_ns / 1e6);
		fputs("  ...\n", out);
	}
	free(tries);
	/* A comment, which consumers show and never count: `ok` stays `ok`, but not silently. After the
	 * YAML block, which must follow its test point directly. */
	if (result->unchecked) {
		const char *reason = result->unchecked_reason ? result->unchecked_reason : "?";
		fprintf(out, "# %d unchecked: ", result->unchecked);
		put_line_text(out, reason, strcspn(reason, "\n"));
		fputc('\n', out);
	}
}

int report_tap_write(FILE *out, const struct run_set *set, char **error)
{
	int ran = 0;
	for (int i = 0; i < set->count; i++)
		ran += set->runs[i].ran;
	/* The plan counts what ran; an interrupted run then bails out, so no consumer takes the missing
	 * runs for passes. */
	fprintf(out, "TAP version 13\n1..%d\n", ran);
	int number = 0;
	for (int i = 0; i < set->count; i++)
		if (set->runs[i].ran)
			put_test_point(out, ++number, &set->runs[i]);
	if (ran < set->count)
		fprintf(out, "Bail out! interrupted: %d of %d runs never started\n", set->count - ran, set->count);
	if (fflush(out) != 0 || ferror(out))
		return error_set(error, "cannot write the TAP report: %s", strerror(errno));
	return 0;
}
