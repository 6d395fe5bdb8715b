/* report_html.c - see report_html.h.
 *
 * DOM contract. tests/check_html_dom.py and tests/unit/test_report_html.c read the page through these
 * elements and attributes only; everything else (layout, colours, wording) may change freely.
 *   <section class="run" id="ANCHOR" data-run="NAME" data-verdict="pass|fail|skip|notrun">
 *       one per record of the set, in order. ANCHOR is NAME with every byte outside [A-Za-z0-9_-]
 *       turned into '.', and "-N" added to the N-th repeat; the matrix cells link to it.
 *   <a class="pcap" href="...">
 *       the run's capture, relative to DIR: the capture's own path when it lies under DIR, else its hard
 *       link or copy under DIR/captures/ (report_captures.h), so that DIR can be moved whole.
 *   <svg class="ladder" data-run="NAME" data-segments="K" data-teardown="T">
 *       one per record that ran and was not skipped; K = its RUN_EVENT_INJECTED + RUN_EVENT_SEGMENT
 *       events, T = its RUN_EVENT_TEARDOWN events.
 *   <g class="column" data-column="PEER|(other)|stack">
 *       one per vertical line of a ladder: the peers the run's events name, "(other)" for segments to
 *       an undeclared address, the stack under test.
 *   <g class="arrow" data-kind="injected|segment">
 *       one per INJECTED or SEGMENT event, class "arrow broke" when it broke its line's expectation.
 *   <g class="arrow teardown" data-kind="teardown">
 *       one per TEARDOWN event (what the stack sent as the harness closed the application's sockets,
 *       after the last line), below the <g class="teardown-divider"> that opens the teardown, after
 *       every other event; its label begins "teardown: ". Never "broke": teardown is not judged.
 *       Silences are <g class="silence">, app calls, states and counters
 *       <g class="note" data-kind="app|state|counter">: never "arrow"; class "note unchecked" when the
 *       stack could not show that evidence.
 * The page fetches nothing: inline CSS and SVG, no script, and a Content-Security-Policy that says so.
 * Its only links are the capture files and anchors within the page. */
#include "report_html.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "error_text.h"
#include "output_file.h"
#include "report_captures.h"
#include "report_matrix.h"

#define ANCHOR_MAX 256
#define CELL_MAX (4 * OUTCOME_MAX + 2)
#define LABEL_MAX 512

/* Ladder geometry in pixels. Text is 12 px monospace, about 7.25 px a character. A ladder fits a page
 * 1280 px wide (the body's margins take 32 px each side) for up to 4 peers: the columns share what the
 * notes beside the stack leave them, and a label longer than its arrow wraps onto more lines, at most
 * LABEL_LINES, the last shortened with an ellipsis and the whole text on hover. */
#define CHAR_WIDTH_X4 29
#define LADDER_MAX_WIDTH 1216
#define TIME_GUTTER 100    /* left of the first column: the +S.mmm s labels, half the column's title */
#define WANTED_GAP 220     /* between columns, when the labels need no more and the page has room */
#define NOTES_MIN 110      /* right of the stack: its address, short notes */
#define NOTES_SHARE 330    /* what the notes keep when the columns must squeeze */
#define HEAD_HEIGHT 46     /* the column titles */
#define LINE 14            /* one more line of a label */
#define LABEL_LINES 3
#define EXCHANGE_ROW 30    /* a segment, or a silence, between a peer and the stack */
#define NOTE_ROW 22        /* an app call, state or counter beside the stack */
#define EXPECTED_LINE 15   /* under a broken event: what its line expected */
#define DIVIDER_ROW 24     /* the line across the ladder where the teardown begins */

static const char page_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	"<title>tcpharness report</title>\n<style>\n"
	"body{font:14px/1.45 system-ui,sans-serif;margin:24px 32px;color:#1a202c}\n"
	"h1{font-size:22px;margin:0 0 6px}h2{font-size:18px;margin:28px 0 8px}h3{font-size:15px;margin:0 0 4px}\n"
	"code,pre,.matrix td{font-family:monospace}\n"
	".summary{font-size:16px;margin:0}.context{color:#4a5568;margin:2px 0 0}\n"
	".pass{color:#276749}.fail{color:#c53030}.skip{color:#975a16}.notrun{color:#718096}\n"
	/* The harness's own faults in purple, never the stack's red; a pass on a retry in amber. */
	".error{color:#6b46c1}.flaky{color:#b7791f}\n"
	".matrix{border-collapse:collapse}\n"
	".matrix th,.matrix td{border:1px solid #cbd5e0;padding:3px 10px;text-align:left}\n"
	".matrix th{font-weight:600}.matrix a{color:inherit;text-decoration:none}\n"
	".matrix td.pass{background:#f0fff4}.matrix td.fail{background:#fff5f5}.matrix td.skip{background:#fffff0}\n"
	".matrix td.error{background:#faf5ff}.matrix td.flaky{background:#fffaf0}\n"
	"pre.harness{background:#faf5ff;border-left:3px solid #6b46c1;padding:8px 12px;overflow-x:auto}\n"
	".variant{color:#718096;font-size:12px;margin-right:6px}.legend{color:#4a5568;font-size:13px}\n"
	".run{border-top:1px solid #e2e8f0;padding:14px 0}\n"
	".verdict{text-transform:uppercase;font-size:13px;margin-left:8px}.facts{margin:0 0 6px;color:#4a5568}\n"
	"pre.diagnostic{background:#fff5f5;border-left:3px solid #c53030;padding:8px 12px;overflow-x:auto}\n"
	/* Wide tables, ladders and texts scroll in their own box: the page itself never scrolls sideways. */
	".ladder-box,.matrix-box,pre.tries{overflow-x:auto}\n"
	"svg.ladder text{font:12px monospace;fill:#1a202c}\n"
	/* A white halo keeps a label readable where it crosses another peer's line. */
	"svg.ladder .label,svg.ladder .expected{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}"
	"\n"
	"svg.ladder .time,svg.ladder .address{fill:#718096}svg.ladder .name{font-weight:bold}\n"
	".column line{stroke:#a0aec0;stroke-width:1.5}\n"
	".arrow line{stroke:#2b6cb0;stroke-width:1.5}.arrow polygon{fill:#2b6cb0}\n"
	".arrow[data-kind=segment] line{stroke:#2f855a}.arrow[data-kind=segment] polygon{fill:#2f855a}\n"
	".silence line,.silence path{stroke:#718096;stroke-width:1.5}.silence line{stroke-dasharray:5 4}\n"
	".note circle{fill:#6b46c1}svg.ladder .note text{fill:#553c9a}svg.ladder .silence text{fill:#4a5568}\n"
	/* Red wins over every kind's colour. */
	".broke line,.broke path{stroke:#c53030!important;stroke-width:2.5}\n"
	".broke polygon,.broke circle{fill:#c53030!important}\n"
	"svg.ladder .broke text{fill:#c53030}\n"
	/* What the stack could not show: hollow and amber, neither a pass's colour nor a failure's. */
	".unchecked{color:#975a16}.matrix td.unchecked{background:#fffbeb}\n"
	".note.unchecked circle{fill:#fff;stroke:#975a16;stroke-width:1.5}"
	"svg.ladder .note.unchecked text{fill:#975a16;font-style:italic}\n"
	/* The teardown is the harness's, after the case: grey and dashed, apart from every line's colours. */
	".arrow.teardown line,.teardown-divider line{stroke:#a0aec0;stroke-dasharray:3 3}"
	".arrow.teardown polygon{fill:#a0aec0}svg.ladder .teardown text{fill:#718096;font-style:italic}\n"
	"</style>\n</head>\n<body>\n<h1>tcpharness report</h1>\n";

/* ---- text ---- */

static void put_escaped_n(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (text[i]) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(text[i], out);
		}
	}
}

static void put_escaped(FILE *out, const char *text)
{
	put_escaped_n(out, text, strlen(text));
}

/* A file path as a URL path: '%', '#', '?' and blanks in a file name must not end or bend the link,
 * and no ':' may make a relative path look like a scheme. */
static void put_url_path(FILE *out, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (isalnum(*p) || strchr("/-._~@+,=", *p))
			fputc(*p, out);
		else
			fprintf(out, "%%%02X", *p);
	}
}

/* The link to a run's capture: link is relative to DIR (report_captures.h); the text says which file. */
static void put_capture_link(FILE *out, const char *link, const char *capture)
{
	fputs("<a class=\"pcap\" href=\"", out);
	put_url_path(out, link);
	fputs("\">", out);
	put_escaped(out, capture);
	fputs("</a>", out);
}

/* The run's section id: see the DOM contract above. */
static void run_anchor(const struct run_set *set, int index, char *buf, size_t size)
{
	char mine[ANCHOR_MAX], theirs[ANCHOR_MAX];
	int repeats = 0;
	for (int i = index; i >= 0; i--) {
		char *anchor = i == index ? mine : theirs;
		snprintf(anchor, ANCHOR_MAX, "%s", set->runs[i].name);
		for (char *p = anchor; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
				*p = '.';
		repeats += i != index && strcmp(mine, theirs) == 0;
	}
	if (repeats)
		snprintf(buf, size, "%s-%d", mine, repeats + 1);
	else
		snprintf(buf, size, "%s", mine);
}

/* pass, fail, skip, error, flaky or notrun: the section's data-verdict, the CSS class and (upper-cased)
 * the word. */
static const char *verdict_word(const struct run_record *r)
{
	return report_shown_word(report_shown_verdict(r));
}

/* ---- summary and matrix ---- */

static void write_summary(FILE *out, const struct run_set *set)
{
	int counts[SHOWN_VERDICT_COUNT];
	report_count(set, counts);
	fprintf(out,
		"<p class=\"summary\"><span class=\"pass\">%d passed</span>, <span class=\"fail\">%d failed</span>, "
		"<span class=\"skip\">%d skipped</span>, <span class=\"flaky\">%d flaky</span>, "
		"<span class=\"error\">%d errors</span>",
		counts[SHOWN_PASS], counts[SHOWN_FAIL], counts[SHOWN_SKIP], counts[SHOWN_FLAKY], counts[SHOWN_ERROR]);
	if (counts[SHOWN_NOT_RUN])
		fprintf(out, ", <span class=\"notrun\">%d not run (interrupted)</span>", counts[SHOWN_NOT_RUN]);

	struct utsname system;
	char date[64] = "unknown date";
	time_t now = time(NULL);
	struct tm local;
	if (localtime_r(&now, &local))
		strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %z", &local);
	fputs("</p>\n<p class=\"context\">Linux ", out);
	put_escaped(out, uname(&system) == 0 ? system.release : "(uname failed)");
	fprintf(out, " &middot; %s &middot; tcpharness %s</p>\n", date, TCPHARNESS_VERSION);
}

/* One row per case, one cell per variant that ran; a case's runs are consecutive in the set. */
static void write_matrix(FILE *out, const struct run_set *set)
{
	int widest = 1;
	for (int i = 0, first = 0; i < set->count; i++) {
		if (set->runs[i].c != set->runs[first].c)
			first = i;
		if (i - first + 1 > widest)
			widest = i - first + 1;
	}
	fprintf(out, "<h2>Matrix</h2>\n<div class=\"matrix-box\"><table class=\"matrix\">\n"
		     "<tr><th>case</th><th colspan=\"%d\">what the stack did, per variant</th></tr>\n", widest);
	for (int i = 0; i < set->count;) {
		const struct case_file *c = set->runs[i].c;
		fputs("<tr><th>", out);
		put_escaped(out, c->name);
		fputs("</th>", out);
		for (; i < set->count && set->runs[i].c == c; i++) {
			const struct run_record *r = &set->runs[i];
			char cell[CELL_MAX], anchor[ANCHOR_MAX + 16];
			matrix_cell(r, cell, sizeof cell);
			run_anchor(set, i, anchor, sizeof anchor);
			fprintf(out, "<td class=\"%s%s\"><a href=\"#%s\">", verdict_word(r),
				r->ran && r->result.verdict == VERDICT_PASS && r->result.unchecked ? " unchecked" : "", anchor);
			if (r->variant >= 0 || report_names_families(set)) {
				fputs("<span class=\"variant\">", out);
				put_escaped(out, report_variant_name(r));
				if (report_names_families(set))
					fprintf(out, "%s%s", r->variant >= 0 ? "/" : "", family_name(r->family));
				fputs("</span>", out);
			}
			put_escaped(out, cell);
			fputs("</a></td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table></div>\n<p class=\"legend\">A cell is what the stack did at the case's <code>outcome</code> lines; "
	      "<code>!</code>: the case failed; <code>ERR</code>: the harness could not perform a line (an error, "
	      "not the stack's); <code>~</code>: it passed on a retry (flaky); <code>?</code>: it passed, but the stack could not show the evidence "
	      "of some lines (<code>" OUTCOME_UNSEEN "</code> where that was the outcome); "
	      "<code>pass</code>/<code>FAIL</code>: the case marks no outcome. A cell links to its ladder.</p>\n",
	      out);
}

/* ---- ladder ---- */

struct ladder {
	int peer_x[CASE_MAX_PEERS]; /* 0: the peer has no column */
	int other_x;                /* 0: no column for undeclared addresses */
	int stack_x;
	int width, height;
	int head_height;            /* the titles: two rows of addresses when the columns are too close */
};

static bool is_segment(const struct run_event *e)
{
	return e->kind == RUN_EVENT_INJECTED || e->kind == RUN_EVENT_SEGMENT;
}

/* Segments (the teardown's too) and silences run between a peer's line and the stack's; the rest sits
 * beside the stack. */
static bool is_exchange(const struct run_event *e)
{
	return is_segment(e) || e->kind == RUN_EVENT_SILENCE || e->kind == RUN_EVENT_TEARDOWN;
}

/* The teardown's events come last (run.c records them after every line): the first one's index, or
 * result->event_count when there is none. */
static int first_teardown(const struct case_result *result)
{
	int i = 0;
	while (i < result->event_count && result->events[i].kind != RUN_EVENT_TEARDOWN)
		i++;
	return i;
}

static int text_width(size_t chars)
{
	return (int)(chars * CHAR_WIDTH_X4 / 4);
}

/* Characters, not bytes: a label may hold UTF-8 (the app call's arrow, a case's comment). */
static size_t utf8_chars(const char *text)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		n += (*p & 0xc0) != 0x80;
	return n;
}

/* The byte offset after `chars` characters of text (or its end). */
static size_t utf8_offset(const char *text, size_t chars)
{
	size_t i = 0;
	for (; text[i] && chars > 0; chars--)
		for (i++; ((unsigned char)text[i] & 0xc0) == 0x80; i++)
			;
	return i;
}

static int column_x(const struct ladder *l, int peer)
{
	return peer >= 0 ? l->peer_x[peer] : l->other_x;
}

/* The code of a source line from column col (1-based): without its comment and surrounding blanks. */
static const char *source_code(const char *line, int col, int *len)
{
	size_t skip = strlen(line);
	if (col >= 1 && (size_t)col - 1 < skip)
		skip = (size_t)col - 1;
	const char *start = line + skip;
	start += strspn(start, " \t");
	const char *end = start + strcspn(start, "#");
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*len = (int)(end - start);
	return start;
}

static void event_label(const struct case_file *c, const struct run_event *e, char *buf, size_t size)
{
	int len;
	if (e->unchecked) {
		snprintf(buf, size, "unchecked: %s%s", e->kind == RUN_EVENT_STATE ? "state " : "", e->expected);
		return;
	}
	switch (e->kind) {
	case RUN_EVENT_SILENCE:
		snprintf(buf, size, "no segment (%s)", OUTCOME_DROP);
		break;
	case RUN_EVENT_APP: {
		const struct step *s = &c->steps[e->step];
		const char *call = source_code(c->lines[s->line_index], s->where.col, &len);
		snprintf(buf, size, "%.*s \u2192 %s", len, call, e->observed);
		break;
	}
	case RUN_EVENT_STATE:
		snprintf(buf, size, "state %s", e->observed);
		break;
	case RUN_EVENT_TEARDOWN:
		snprintf(buf, size, "teardown: %s", e->observed);
		break;
	default:
		snprintf(buf, size, "%s", e->observed);
	}
}

/* A segment no line expected has no expectation text: it was expected not to exist. */
static void expected_label(const struct run_event *e, char *buf, size_t size)
{
	snprintf(buf, size, "expected: %s", e->expected[0] ? e->expected : "no segment");
}

/* A label broken into lines of at most `chars` characters, after a blank or a comma where it can; what
 * does not fit in LABEL_LINES ends the last line with an ellipsis (shortened). */
struct wrapped {
	int count;
	bool shortened;
	char line[LABEL_LINES][LABEL_MAX];
};

static void wrap(const char *text, int chars, struct wrapped *w)
{
	if (chars < 8)
		chars = 8;
	w->count = 0;
	w->shortened = false;
	while (w->count < LABEL_LINES) {
		char *line = w->line[w->count++];
		size_t len = strlen(text);
		if (utf8_chars(text) <= (size_t)chars) {
			snprintf(line, LABEL_MAX, "%s", text);
			return;
		}
		if (w->count == LABEL_LINES) {
			snprintf(line, LABEL_MAX, "%.*s\u2026", (int)utf8_offset(text, (size_t)chars - 1), text);
			w->shortened = true;
			return;
		}
		size_t limit = utf8_offset(text, (size_t)chars), cut = limit;
		while (cut > 0 && text[cut] != ' ' && text[cut - 1] != ',')
			cut--;
		if (cut == 0)
			cut = limit;
		snprintf(line, LABEL_MAX, "%.*s", (int)(cut < len ? cut : len), text);
		text += cut;
		text += strspn(text, " ");
	}
}

/* How many characters a line of the event's texts may hold: an exchange's lie between its two columns,
 * a note's right of the stack. */
static int line_chars(const struct ladder *l, const struct run_event *e)
{
	int room = is_exchange(e) ? abs(l->stack_x - column_x(l, e->peer)) - 16 : l->width - l->stack_x - 16;
	return room * 4 / CHAR_WIDTH_X4;
}

/* The event's label and, when it broke, its expectation, wrapped to fit. */
static void event_texts(const struct case_file *c, const struct run_event *e, const struct ladder *l,
			struct wrapped *label, struct wrapped *expected)
{
	char text[LABEL_MAX];
	event_label(c, e, text, sizeof text);
	wrap(text, line_chars(l, e), label);
	expected->count = 0;
	expected->shortened = false;
	if (e->broke) {
		expected_label(e, text, sizeof text);
		wrap(text, line_chars(l, e), expected);
	}
}

static int row_height(const struct case_file *c, const struct run_event *e, const struct ladder *l)
{
	struct wrapped label, expected;
	event_texts(c, e, l, &label, &expected);
	return (is_exchange(e) ? EXCHANGE_ROW : NOTE_ROW) + (label.count - 1) * LINE +
	       (expected.count ? EXPECTED_LINE + (expected.count - 1) * LINE : 0);
}

/* Columns for the peers the events name, in declaration order, then "(other)", then the stack. The gap
 * between columns fits the longest label where the page has room; else the columns share what the
 * notes leave, and labels wrap. The width fits the longest note, within the page. */
static void lay_out(const struct case_file *c, const struct case_result *result, struct ladder *l,
		    size_t address_chars)
{
	bool used[CASE_MAX_PEERS] = { false }, other = false;
	size_t exchange_chars = 0, note_chars = 0;
	memset(l, 0, sizeof *l);
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		char label[LABEL_MAX], expected[LABEL_MAX];
		event_label(c, e, label, sizeof label);
		expected_label(e, expected, sizeof expected);
		size_t chars = utf8_chars(label);
		if (e->broke && utf8_chars(expected) > chars)
			chars = utf8_chars(expected);
		if (!is_exchange(e)) {
			note_chars = chars > note_chars ? chars : note_chars;
		} else {
			exchange_chars = chars > exchange_chars ? chars : exchange_chars;
			if (e->peer >= 0)
				used[e->peer] = true;
			else
				other = true;
		}
	}
	int columns = other;
	for (int p = 0; p < c->peer_count; p++)
		columns += used[p];
	int notes = text_width(note_chars) + 24;
	notes = notes < NOTES_MIN ? NOTES_MIN : notes;
	int gap = text_width(exchange_chars) + 40;
	gap = gap > WANTED_GAP ? gap : WANTED_GAP;
	if (columns && TIME_GUTTER + columns * gap + (notes < NOTES_SHARE ? notes : NOTES_SHARE) > LADDER_MAX_WIDTH)
		gap = (LADDER_MAX_WIDTH - TIME_GUTTER - (notes < NOTES_SHARE ? notes : NOTES_SHARE)) / columns;
	int x = TIME_GUTTER;
	for (int p = 0; p < c->peer_count; p++)
		if (used[p]) {
			l->peer_x[p] = x;
			x += gap;
		}
	if (other) {
		l->other_x = x;
		x += gap;
	}
	l->stack_x = x;
	l->width = x + notes < LADDER_MAX_WIDTH ? x + notes : LADDER_MAX_WIDTH;
	/* Neighbouring titles whose addresses would touch take turns on two rows. */
	l->head_height = HEAD_HEIGHT + (columns && gap < text_width(address_chars) + 16 ? LINE : 0);
	l->height = l->head_height + 10 + (first_teardown(result) < result->event_count ? DIVIDER_ROW : 0);
	for (int i = 0; i < result->event_count; i++)
		l->height += row_height(c, &result->events[i], l);
}

static void put_text(FILE *out, const char *class, int x, int y, const char *anchor, const char *text)
{
	fprintf(out, "<text class=\"%s\" x=\"%d\" y=\"%d\" text-anchor=\"%s\">", class, x, y, anchor);
	put_escaped(out, text);
	fputs("</text>", out);
}

/* Each line of a wrapped text, LINE apart from y down. */
static void put_lines(FILE *out, const char *class, int x, int y, const char *anchor, const struct wrapped *w)
{
	for (int i = 0; i < w->count; i++)
		put_text(out, class, x, y + i * LINE, anchor, w->line[i]);
}

/* The source line behind an event as the tooltip of its arrow or note, and the whole of a label that had
 * to be shortened. */
static void put_tooltip(FILE *out, const struct case_file *c, const struct run_event *e, bool shortened)
{
	fputs("<title>", out);
	if (e->kind == RUN_EVENT_TEARDOWN) {
		fputs("teardown: the stack sent this as the harness closed the application's sockets, after the last "
		      "line; not judged", out);
	} else if (e->step < 0) {
		fputs("no line expected this segment", out);
	} else {
		const struct step *s = &c->steps[e->step];
		int len;
		const char *code = source_code(c->lines[s->line_index], 1, &len);
		fprintf(out, "line %d: ", s->where.line);
		put_escaped_n(out, code, (size_t)len);
	}
	if (shortened) {
		char text[LABEL_MAX];
		event_label(c, e, text, sizeof text);
		fputc('\n', out);
		put_escaped(out, text);
		if (e->broke) {
			expected_label(e, text, sizeof text);
			fputc('\n', out);
			put_escaped(out, text);
		}
	}
	fputs("</title>", out);
}

static void draw_column(FILE *out, const char *name, const char *address, int x, int address_row,
			const struct ladder *l)
{
	fputs("<g class=\"column\" data-column=\"", out);
	put_escaped(out, name);
	fprintf(out, "\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", x, l->head_height - 6, x, l->height - 6);
	put_text(out, "name", x, 16, "middle", name);
	put_text(out, "address", x, 32 + (l->head_height > HEAD_HEIGHT ? address_row % 2 * LINE : 0), "middle", address);
	fputs("</g>\n", out);
}

/* A segment as an arrow between its peer's line and the stack's, or a silence as a dashed stub from the
 * stack that ends in a cross halfway; the label sits above, a broken expectation below. */
static void draw_exchange(FILE *out, const struct case_file *c, const struct run_event *e, const struct ladder *l,
			  int top)
{
	struct wrapped label, expected;
	event_texts(c, e, l, &label, &expected);
	int peer_x = column_x(l, e->peer), mid = (peer_x + l->stack_x) / 2, y = top + 22 + (label.count - 1) * LINE;
	const char *broke = e->broke ? " broke" : "";
	bool shortened = label.shortened || expected.shortened;
	if (e->kind == RUN_EVENT_SILENCE) {
		fprintf(out, "<g class=\"silence%s\">", broke);
		put_tooltip(out, c, e, shortened);
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><path d=\"M%d %dl8 8m0 -8l-8 8\"/>",
			l->stack_x, y, mid, y, mid - 4, y - 4);
	} else {
		bool injected = e->kind == RUN_EVENT_INJECTED, teardown = e->kind == RUN_EVENT_TEARDOWN;
		int from = injected ? peer_x : l->stack_x, to = injected ? l->stack_x : peer_x;
		int back = to > from ? -10 : 10; /* the arrowhead's base, behind its tip */
		fprintf(out, "<g class=\"arrow%s%s\" data-kind=\"%s\">", broke, teardown ? " teardown" : "",
			injected ? "injected" : teardown ? "teardown" : "segment");
		put_tooltip(out, c, e, shortened);
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><polygon points=\"%d,%d %d,%d %d,%d\"/>",
			from, y, to + back, y, to, y, to + back, y - 4, to + back, y + 4);
	}
	put_lines(out, "label", mid, top + 14, "middle", &label);
	put_lines(out, "expected", mid, y + EXPECTED_LINE + 1, "middle", &expected);
	fputs("</g>\n", out);
}

/* An app call, state or counter: a dot on the stack's line and the text beside it. */
static void draw_note(FILE *out, const struct case_file *c, const struct run_event *e, const struct ladder *l,
		      int top)
{
	static const char *const kinds[] = {
		[RUN_EVENT_APP] = "app", [RUN_EVENT_STATE] = "state", [RUN_EVENT_COUNTER] = "counter",
		[RUN_EVENT_CLOCK] = "clock", [RUN_EVENT_STORM] = "storm"
	};
	struct wrapped label, expected;
	event_texts(c, e, l, &label, &expected);
	fprintf(out, "<g class=\"note%s%s\" data-kind=\"%s\">", e->broke ? " broke" : "",
		e->unchecked ? " unchecked" : "", kinds[e->kind]);
	put_tooltip(out, c, e, label.shortened || expected.shortened);
	fprintf(out, "<circle cx=\"%d\" cy=\"%d\" r=\"4\"/>", l->stack_x, top + 10);
	put_lines(out, "label", l->stack_x + 12, top + 14, "start", &label);
	put_lines(out, "expected", l->stack_x + 12, top + 14 + label.count * LINE + 1, "start", &expected);
	fputs("</g>\n", out);
}

/* A dashed line across the ladder where the case's lines end and the harness's teardown begins. */
static void draw_teardown_divider(FILE *out, const struct ladder *l, int top)
{
	fprintf(out, "<g class=\"teardown-divider teardown\"><line x1=\"8\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", top + 6,
		l->width - 8, top + 6);
	fputs("<title>the harness closed the application's sockets after the last line; what the stack sent then is "
	      "shown, never judged</title>", out);
	put_text(out, "label", 8, top + 20, "start", "teardown (not judged)");
	fputs("</g>\n", out);
}

/* Time runs down, one row per event in the order they happened (not to scale). */
static void write_ladder(FILE *out, const struct run_record *r)
{
	const struct case_file *c = r->c;
	const struct case_result *result = &r->result;
	/* The addresses the run used: the case's, mapped for its family. */
	char addresses[CASE_MAX_PEERS][IP_ADDRESS_TEXT_MAX + 8], stack_address[IP_ADDRESS_TEXT_MAX];
	size_t address_chars = 0;
	for (int p = 0; p < c->peer_count; p++) {
		struct ip_address ip = family_address(r->family, c->peers[p].ip);
		ip_address_format(&ip, addresses[p]);
		snprintf(addresses[p] + strlen(addresses[p]), 8, ":%u", c->peers[p].port);
		address_chars = strlen(addresses[p]) > address_chars ? strlen(addresses[p]) : address_chars;
	}
	struct ip_address target = family_address(r->family, c->target_ip);
	ip_address_format(&target, stack_address);
	address_chars = strlen(stack_address) > address_chars ? strlen(stack_address) : address_chars;

	struct ladder l;
	lay_out(c, result, &l, address_chars);
	int segments = 0, teardown = first_teardown(result);
	for (int i = 0; i < result->event_count; i++)
		segments += is_segment(&result->events[i]);
	fputs("<div class=\"ladder-box\"><svg class=\"ladder\" data-run=\"", out);
	put_escaped(out, r->name);
	fprintf(out, "\" data-segments=\"%d\" data-teardown=\"%d\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		segments, result->event_count - teardown, l.width, l.height, l.width, l.height);

	int column = 0;
	for (int p = 0; p < c->peer_count; p++)
		if (l.peer_x[p])
			draw_column(out, c->peers[p].name, addresses[p], l.peer_x[p], column++, &l);
	if (l.other_x)
		draw_column(out, "(other)", "undeclared", l.other_x, column++, &l);
	draw_column(out, "stack", stack_address, l.stack_x, column, &l);

	int top = l.head_height;
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		if (i == teardown) {
			draw_teardown_divider(out, &l, top);
			top += DIVIDER_ROW;
		}
		char at[32];
		snprintf(at, sizeof at, "+%.3f s", (double)e->at_ns / 1e9);
		struct wrapped label, expected;
		event_texts(c, e, &l, &label, &expected);
		/* Level with the arrow, under its label's lines; a note's first line. */
		put_text(out, "time", 8, top + (is_exchange(e) ? 26 + (label.count - 1) * LINE : 14), "start", at);
		if (is_exchange(e))
			draw_exchange(out, c, e, &l, top);
		else
			draw_note(out, c, e, &l, top);
		top += row_height(c, e, &l);
	}
	fputs("</svg></div>\n", out);
}

/* ---- runs ---- */

static void write_run(FILE *out, const struct run_set *set, int index, const char *capture_link)
{
	const struct run_record *r = &set->runs[index];
	const struct case_result *result = &r->result;
	char anchor[ANCHOR_MAX + 16];
	run_anchor(set, index, anchor, sizeof anchor);
	fprintf(out, "<section class=\"run\" id=\"%s\" data-run=\"", anchor);
	put_escaped(out, r->name);
	fprintf(out, "\" data-verdict=\"%s\">\n<h3>", verdict_word(r));
	if (r->target) {
		fputs("<span class=\"target\">", out);
		put_escaped(out, r->target);
		fputs("</span> ", out);
	}
	put_escaped(out, r->name);
	fprintf(out, "<span class=\"verdict %s\">%s</span></h3>\n", verdict_word(r),
		r->ran ? verdict_word(r) : "not run");
	if (!r->ran) {
		fputs("<p>The run was interrupted before this one started.</p>\n</section>\n", out);
		return;
	}
	if (result->verdict == VERDICT_SKIP) {
		fputs("<p class=\"reason\">", out);
		put_escaped(out, result->message ? result->message : "no reason given");
		fputs("</p>\n</section>\n", out);
		return;
	}
	fputs("<p class=\"facts\">outcome <b>", out);
	put_escaped(out, result->outcome[0] ? result->outcome : "(none marked)");
	fprintf(out, "</b> &middot; %.0f ms", (double)result->duration_ns / 1e6);
	if (result->unchecked) {
		fprintf(out, " &middot; <span class=\"unchecked\">%d unchecked: ", result->unchecked);
		put_escaped(out, result->unchecked_reason ? result->unchecked_reason : "?");
		fputs("</span>", out);
	}
	if (result->pcap_path && capture_link) {
		fputs(" &middot; capture ", out);
		put_capture_link(out, capture_link, result->pcap_path);
	}
	fputs("</p>\n", out);
	char *tries = report_tries_text(r);
	if (tries) {
		fputs("<pre class=\"tries\">", out);
		put_escaped(out, tries);
		fputs("</pre>\n", out);
		free(tries);
	}
	if ((result->verdict == VERDICT_FAIL || result->verdict == VERDICT_ERROR) && result->message) {
		fprintf(out, "<pre class=\"%s\">", result->verdict == VERDICT_FAIL ? "diagnostic" : "harness");
		put_escaped(out, result->message);
		fputs("</pre>\n", out);
	}
	write_ladder(out, r);
	fputs("</section>\n", out);
}

int report_html_write(const char *dir, const struct run_set *set, char **error)
{
	char dir_real[PATH_MAX];
	if (output_dir_make(dir, error) < 0)
		return -1;
	if (!realpath(dir, dir_real))
		return error_set(error, "%s: %s", dir, strerror(errno));
	char **links = calloc((size_t)set->count + 1, sizeof *links);
	if (!links)
		return error_set(error, "out of memory");
	char *path = NULL;
	struct output_file file;
	int rc = report_captures_gather(dir_real, set, links, error);
	if (rc == 0 && asprintf(&path, "%s/index.html", dir) < 0) {
		path = NULL;
		rc = error_set(error, "out of memory");
	}
	if (rc == 0)
		rc = output_file_begin(&file, path, error);
	if (rc < 0) {
		for (int i = 0; i < set->count; i++)
			free(links[i]);
		free(links);
		free(path);
		return -1;
	}
	FILE *out = file.out;
	fputs(page_head, out);
	write_summary(out, set);
	write_matrix(out, set);
	fputs("<h2>Runs</h2>\n", out);
	for (int i = 0; i < set->count; i++)
		write_run(out, set, i, links[i]);
	fputs("</body>\n</html>\n", out);
	rc = output_file_commit(&file, true, error);
	for (int i = 0; i < set->count; i++)
		free(links[i]);
	free(links);
	free(path);
	return rc;
}
