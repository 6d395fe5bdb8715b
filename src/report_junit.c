/* report_junit.c - see report_junit.h. Runs that never started (an interrupted run) are left out. */
#include "report_junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "error_text.h"

#define REPLACEMENT_CHARACTER "\xef\xbf\xbd"

/* Text as XML 1.0 character data: &, < and > as entities, quotes too in an attribute (its delimiter);
 * what XML cannot hold at all (most control characters, malformed UTF-8) as U+FFFD. In an attribute,
 * tab and line feed become character references, since a parser turns literal ones into spaces; a
 * carriage return always does, since a parser turns a literal one into a line feed. */
static void put_xml(FILE *out, const char *text, size_t len, bool attribute)
{
	const unsigned char *bytes = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = report_utf8_decode(bytes + i, len - i, &cp);
		if (n == 0) {
			fputs(REPLACEMENT_CHARACTER, out);
			i++;
			continue;
		}
		if (cp == '&')
			fputs("&amp;", out);
		else if (cp == '<')
			fputs("&lt;", out);
		else if (cp == '>')
			fputs("&gt;", out);
		else if (attribute && cp == '"')
			fputs("&quot;", out);
		else if (attribute && cp == '\'')
			fputs("&apos;", out);
		else if (cp == '\r' || (attribute && (cp == '\t' || cp == '\n')))
			fprintf(out, "&#%u;", (unsigned)cp);
		else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xfffe || cp == 0xffff)
			fputs(REPLACEMENT_CHARACTER, out);
		else
			fwrite(bytes + i, 1, n, out);
		i += n;
	}
}

static void put_attribute(FILE *out, const char *name, const char *value, size_t len)
{
	fprintf(out, " %s=\"", name);
	put_xml(out, value, len, true);
	fputc('"', out);
}

struct tally {
	int tests, failures, errors, skipped;
	int64_t duration_ns;
};

/* Counts the runs in [first, end) that ran. */
static struct tally tally_runs(const struct run_set *set, int first, int end)
{
	struct tally t = { 0 };
	for (int i = first; i < end; i++) {
		const struct run_record *r = &set->runs[i];
		if (!r->ran)
			continue;
		t.tests++;
		t.failures += r->result.verdict == VERDICT_FAIL;
		t.errors += r->result.verdict == VERDICT_ERROR;
		t.skipped += r->result.verdict == VERDICT_SKIP;
		t.duration_ns += r->result.duration_ns;
	}
	return t;
}

/* failures are the stack's (FAIL), errors the harness's (ERROR), as on the console. */
static void put_tally(FILE *out, const struct tally *t)
{
	fprintf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\"", t->tests,
		t->failures, t->errors, t->skipped, (double)t->duration_ns / 1e9);
}

/* classname is the theme: the directory part of the case's display name (`time_wait`). */
static void put_testcase(FILE *out, const struct run_record *r, const char *case_name)
{
	const struct case_result *result = &r->result;
	const char *slash = strchr(case_name, '/');
	fputs("    <testcase", out);
	put_attribute(out, "classname", case_name, slash ? (size_t)(slash - case_name) : strlen(case_name));
	put_attribute(out, "name", r->name, strlen(r->name));
	put_attribute(out, "file", r->c->path, strlen(r->c->path));
	enum shown_verdict shown = report_shown_verdict(r);
	fprintf(out, " time=\"%.3f\" status=\"%s\">\n", (double)result->duration_ns / 1e9, report_shown_word(shown));
	const char *message = result->message ? result->message : "";
	if (result->verdict == VERDICT_FAIL || result->verdict == VERDICT_ERROR) {
		/* <error>, not <failure>: CI then tells a broken harness from a broken stack. */
		const char *element = result->verdict == VERDICT_FAIL ? "failure" : "error";
		fprintf(out, "      <%s", element);
		put_attribute(out, "message", message, strcspn(message, "\n"));
		fputc('>', out);
		put_xml(out, message, strlen(message), false);
		fprintf(out, "</%s>\n", element);
	} else if (result->verdict == VERDICT_SKIP) {
		fputs("      <skipped", out);
		put_attribute(out, "message", message, strlen(message));
		fputs("/>\n", out);
	}
	char *tries = report_tries_text(r);
	if (result->outcome[0] || result->pcap_path || result->unchecked || tries) {
		fputs("      <system-out>", out);
		if (tries) {
			fputs(shown == SHOWN_FLAKY ? "flaky: passed after a try that did not\n" : "", out);
			put_xml(out, tries, strlen(tries), false);
		}
		if (result->outcome[0]) {
			fputs("outcome: ", out);
			put_xml(out, result->outcome, strlen(result->outcome), false);
			fputc('\n', out);
		}
		if (result->unchecked) {
			const char *reason = result->unchecked_reason ? result->unchecked_reason : "?";
			fprintf(out, "unchecked: %d: ", result->unchecked);
			put_xml(out, reason, strlen(reason), false);
			fputc('\n', out);
		}
		if (result->pcap_path) {
			fputs("pcap: ", out);
			put_xml(out, result->pcap_path, strlen(result->pcap_path), false);
			fputc('\n', out);
		}
		fputs("</system-out>\n", out);
	}
	free(tries);
	fputs("    </testcase>\n", out);
}

/* The testsuite of one case file: its runs are consecutive in the set, [first, end). */
static void put_testsuite(FILE *out, const struct run_set *set, int first, int end, const char *kernel)
{
	struct tally t = tally_runs(set, first, end);
	if (t.tests == 0)
		return;
	const struct case_file *c = set->runs[first].c;
	const char *case_name = c->name;
	/* With several targets a case has a suite per target, named after it. */
	const char *target = set->runs[first].target;
	fputs("  <testsuite name=\"", out);
	if (target) {
		put_xml(out, target, strlen(target), true);
		fputc(' ', out);
	}
	put_xml(out, case_name, strlen(case_name), true);
	fputc('"', out);
	put_tally(out, &t);
	fputs(">\n    <properties>\n      <property name=\"file\"", out);
	put_attribute(out, "value", c->path, strlen(c->path));
	if (target) {
		fputs("/>\n      <property name=\"target\"", out);
		put_attribute(out, "value", target, strlen(target));
	}
	fputs("/>\n      <property name=\"kernel\"", out);
	put_attribute(out, "value", kernel, strlen(kernel));
	fputs("/>\n    </properties>\n", out);
	for (int i = first; i < end; i++)
		if (set->runs[i].ran)
			put_testcase(out, &set->runs[i], case_name);
	fputs("  </testsuite>\n", out);
}

static int put_testsuites(FILE *out, const struct run_set *set, char **error)
{
	(void)error; /* nothing here fails: report_write_file checks the writes */
	struct utsname host;
	const char *kernel = uname(&host) == 0 ? host.release : "";
	struct tally all = tally_runs(set, 0, set->count);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tcpharness\"", out);
	put_tally(out, &all);
	fputs(">\n", out);
	for (int first = 0, end; first < set->count; first = end) {
		end = report_case_end(set, first);
		put_testsuite(out, set, first, end, kernel);
	}
	fputs("</testsuites>\n", out);
	return 0;
}

int report_junit_write(const char *path, const struct run_set *set, char **error)
{
	return report_write_file(path, put_testsuites, set, error);
}
