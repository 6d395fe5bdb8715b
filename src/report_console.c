/* report_console.c - see report_console.h. */
#include "report_console.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GREEN "\033[32m"
#define RED "\033[31m"
#define YELLOW "\033[33m"
#define MAGENTA "\033[35m"
#define RESET "\033[0m"

void console_report_init(struct console_report *r, FILE *out, int total)
{
	memset(r, 0, sizeof *r);
	r->out = out;
	r->total = total;
	bool tty = out && isatty(fileno(out));
	r->progress = tty;
	r->color = tty && !getenv("NO_COLOR");
}

static void erase_progress(struct console_report *r)
{
	if (r->progress)
		fputs("\r\033[K", r->out);
}

void console_report_started(struct console_report *r, const char *name)
{
	if (!r->progress)
		return;
	erase_progress(r);
	fprintf(r->out, "[%d/%d] %s", r->done + 1, r->total, name);
	fflush(r->out);
}

/* Indents every line of a multi-line message by four spaces. */
static void print_indented(FILE *out, const char *text)
{
	while (*text) {
		const char *end = strchr(text, '\n');
		size_t len = end ? (size_t)(end - text) : strlen(text);
		fprintf(out, "    %.*s\n", (int)len, text);
		text += len + (end ? 1 : 0);
	}
}

void console_report_result(struct console_report *r, const struct run_record *record)
{
	static const char *const labels[] = { [SHOWN_PASS] = "PASS", [SHOWN_FAIL] = "FAIL", [SHOWN_SKIP] = "SKIP",
					      [SHOWN_ERROR] = "ERROR", [SHOWN_FLAKY] = "FLAKY" };
	static const char *const colors[] = { [SHOWN_PASS] = GREEN, [SHOWN_FAIL] = RED, [SHOWN_SKIP] = YELLOW,
					      [SHOWN_ERROR] = MAGENTA, [SHOWN_FLAKY] = YELLOW };
	const struct case_result *result = &record->result;
	enum shown_verdict shown = report_shown_verdict(record);
	if (shown == SHOWN_NOT_RUN)
		return;
	erase_progress(r);
	r->done++;
	r->counts[shown]++;
	if (!r->out)
		return;
	const char *color = r->color ? colors[shown] : "";
	fprintf(r->out, "%s%s%s %s (%.0f ms)", color, labels[shown], r->color ? RESET : "", record->name,
		(double)result->duration_ns / 1e6);
	/* On the verdict's line: a PASS that left lines unchecked must not read like a full one. */
	if (result->unchecked)
		fprintf(r->out, " %s(%d unchecked: %s)%s", r->color ? YELLOW : "", result->unchecked,
			result->unchecked_reason ? result->unchecked_reason : "?", r->color ? RESET : "");
	fputc('\n', r->out);
	char *tries = report_tries_text(record);
	if (tries)
		print_indented(r->out, tries);
	free(tries);
	if (result->verdict != VERDICT_PASS && result->message)
		print_indented(r->out, result->message);
	if ((result->verdict == VERDICT_FAIL || result->verdict == VERDICT_ERROR) && result->pcap_path)
		fprintf(r->out, "    pcap: %s\n", result->pcap_path);
	fflush(r->out);
}

void console_report_summary(struct console_report *r)
{
	if (!r->out)
		return;
	erase_progress(r);
	fprintf(r->out, "%d passed, %d failed, %d skipped, %d flaky, %d errors\n", r->counts[SHOWN_PASS],
		r->counts[SHOWN_FAIL], r->counts[SHOWN_SKIP], r->counts[SHOWN_FLAKY], r->counts[SHOWN_ERROR]);
	fflush(r->out);
}
