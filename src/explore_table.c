/* explore_table.c - see explore_table.h. */
#include "explore_table.h"

#include <stdlib.h>
#include <string.h>

#include "error_text.h"

#define EXPLORE_JSON_SCHEMA "tcpharness-explore/1"
#define SHORT_MAX 64

/* The 4-tuple's state at the end of the row's recipe, as sock_diag names it. */
static const char *state_before(const struct explore_row *row)
{
	return row->state->connection ? row->state->name : "NONE";
}

/* The RFC has no request sockets: Linux's NEW_SYN_RECV is its SYN-RECEIVED. */
static bool same_state(const char *a, const char *b)
{
	if (!strcmp(a, "NEW_SYN_RECV"))
		a = "SYN_RECV";
	if (!strcmp(b, "NEW_SYN_RECV"))
		b = "SYN_RECV";
	return !strcmp(a, b);
}

static const struct explore_row *row_of(const struct explore_table *t, const struct explore_cell *cell)
{
	return &t->rows[cell->row];
}

void explore_cell_short(const struct explore_table *t, const struct explore_cell *cell, int target, char *buf,
			size_t size)
{
	const struct explore_observation *o = &cell->seen[target];
	if (o->status != EXPLORE_OBSERVED) {
		snprintf(buf, size, "%s", o->status == EXPLORE_RECIPE_FAILED ? "ERROR" : "SKIP");
		return;
	}
	if (!strcmp(o->state_after, "UNSEEN") || same_state(o->state_after, state_before(row_of(t, cell))))
		snprintf(buf, size, "%s", o->reply);
	else
		snprintf(buf, size, "%s→%s", o->reply, o->state_after);
}

/* Two targets differ on a cell when both observed it and their replies differ, or their states after
 * do where both could show one (gVisor has no sock_diag). A SKIP or ERROR compares with nothing. */
static bool observations_differ(const struct explore_observation *a, const struct explore_observation *b)
{
	if (a->status != EXPLORE_OBSERVED || b->status != EXPLORE_OBSERVED)
		return false;
	if (strcmp(a->reply, b->reply) != 0)
		return true;
	return strcmp(a->state_after, "UNSEEN") != 0 && strcmp(b->state_after, "UNSEEN") != 0 &&
	       strcmp(a->state_after, b->state_after) != 0;
}

bool explore_cell_targets_differ(const struct explore_table *t, const struct explore_cell *cell)
{
	for (int i = 0; i < t->target_count; i++)
		for (int j = i + 1; j < t->target_count; j++)
			if (observations_differ(&cell->seen[i], &cell->seen[j]))
				return true;
	return false;
}

bool explore_cell_contradicts_rfc(const struct explore_table *t, const struct explore_cell *cell, int target)
{
	(void)t;
	const struct explore_observation *o = &cell->seen[target];
	if (o->status != EXPLORE_OBSERVED)
		return false;
	if (strcmp(o->reply, cell->rfc.reply) != 0)
		return true;
	return strcmp(o->state_after, "UNSEEN") != 0 && !same_state(o->state_after, cell->rfc.state);
}

static void print_cell(FILE *out, const struct explore_table *t, const struct explore_cell *cell)
{
	for (int i = 0; i < t->target_count; i++) {
		char text[SHORT_MAX];
		explore_cell_short(t, cell, i, text, sizeof text);
		fprintf(out, "%s%s%s", i ? " / " : "", text, explore_cell_contradicts_rfc(t, cell, i) ? " †" : "");
	}
}

void explore_print_markdown(FILE *out, const struct explore_table *t)
{
	fprintf(out, "| state |");
	for (int e = 0; e < t->event_count; e++)
		fprintf(out, " %s |", t->events[e]->name);
	fprintf(out, "\n|---|");
	for (int e = 0; e < t->event_count; e++)
		fprintf(out, "---|");
	fprintf(out, "\n");
	for (int r = 0; r < t->row_count; r++) {
		fprintf(out, "| %s %s |", explore_role_name(t->rows[r].role), t->rows[r].state->name);
		for (int e = 0; e < t->event_count; e++) {
			fputc(' ', out);
			print_cell(out, t, &t->cells[r * t->event_count + e]);
			fprintf(out, " |");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\nA cell: what the stack sent back (ACCEPT is a SYN-ACK, DROP silence) and, after `→`, the\n"
		     "4-tuple's new state (sock_diag; NONE: no socket). `†`: RFC 9293 3.10 (RFC 5961, 6191, 7323)\n"
		     "says otherwise (`--diff`).");
	if (t->target_count > 1) {
		fprintf(out, " Targets, in order:");
		for (int i = 0; i < t->target_count; i++)
			fprintf(out, "%s %s", i ? "," : "", t->labels[i]);
		fprintf(out, ".");
	}
	fprintf(out, "\n");
}

void explore_print_diff(FILE *out, const struct explore_table *t)
{
	int listed = 0;
	for (int c = 0; c < t->row_count * t->event_count; c++) {
		const struct explore_cell *cell = &t->cells[c];
		bool differ = explore_cell_targets_differ(t, cell), against_rfc = false;
		for (int i = 0; i < t->target_count; i++)
			against_rfc |= explore_cell_contradicts_rfc(t, cell, i);
		if (!differ && !against_rfc)
			continue;
		listed++;
		const struct explore_row *row = row_of(t, cell);
		fprintf(out, "- %s %s × %s:", explore_role_name(row->role), row->state->name, t->events[cell->event]->name);
		for (int i = 0; i < t->target_count; i++) {
			char text[SHORT_MAX];
			explore_cell_short(t, cell, i, text, sizeof text);
			fprintf(out, " %s %s%s;", t->kinds[i], text, explore_cell_contradicts_rfc(t, cell, i) ? " †" : "");
		}
		fprintf(out, " RFC %s→%s (%s)", cell->rfc.reply, cell->rfc.state, cell->rfc.section);
		if (differ)
			fprintf(out, " [targets differ]");
		fprintf(out, "\n");
	}
	fprintf(out, "%d of %d cells listed: targets differ, or `†` a target contradicts the RFC\n", listed,
		t->row_count * t->event_count);
}

/* Explore's own strings are ASCII without control characters; the RFC texts hold no quotes either. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static const char *status_word(const struct explore_observation *o)
{
	switch (o->status) {
	case EXPLORE_OBSERVED:
		return "observed";
	case EXPLORE_SKIPPED:
		return "skipped";
	case EXPLORE_UNREACHED:
		return "unreached";
	default:
		return "recipe-failed";
	}
}

static void put_observation(FILE *out, const struct explore_table *t, const struct explore_cell *cell, int i)
{
	const struct explore_observation *o = &cell->seen[i];
	fprintf(out, "{\"target\": ");
	put_string(out, t->kinds[i]);
	fprintf(out, ", \"status\": ");
	put_string(out, status_word(o));
	if (o->status != EXPLORE_OBSERVED) {
		fprintf(out, ", \"why\": ");
		put_string(out, o->why);
	} else {
		fprintf(out, ", \"reply\": ");
		put_string(out, o->reply);
		fprintf(out, ", \"segments\": [");
		for (int k = 0; k < o->reply_count; k++) {
			fprintf(out, "%s", k ? ", " : "");
			put_string(out, o->replies[k]);
		}
		fprintf(out, "], \"state_after\": ");
		put_string(out, o->state_after);
		fprintf(out, ", \"counters\": {");
		for (int k = 0; k < o->moved_count; k++) {
			fprintf(out, "%s", k ? ", " : "");
			put_string(out, o->moved[k].name);
			fprintf(out, ": %lld", (long long)o->moved[k].delta);
		}
		fprintf(out, "}, \"contradicts_rfc\": %s", explore_cell_contradicts_rfc(t, cell, i) ? "true" : "false");
	}
	fprintf(out, ", \"pcap\": ");
	if (cell->pcap[i])
		put_string(out, cell->pcap[i]);
	else
		fputs("null", out);
	fputc('}', out);
}

int explore_write_json(FILE *out, const struct explore_table *t, char **error)
{
	fprintf(out, "{\"schema\": \"%s\", \"targets\": [", EXPLORE_JSON_SCHEMA);
	for (int i = 0; i < t->target_count; i++) {
		fprintf(out, "%s{\"kind\": ", i ? ", " : "");
		put_string(out, t->kinds[i]);
		fprintf(out, ", \"label\": ");
		put_string(out, t->labels[i]);
		fputc('}', out);
	}
	fprintf(out, "],\n \"events\": [");
	for (int e = 0; e < t->event_count; e++) {
		fprintf(out, "%s{\"name\": ", e ? ", " : "");
		put_string(out, t->events[e]->name);
		fprintf(out, ", \"what\": ");
		put_string(out, t->events[e]->what);
		fputc('}', out);
	}
	fprintf(out, "],\n \"cells\": [\n");
	for (int c = 0; c < t->row_count * t->event_count; c++) {
		const struct explore_cell *cell = &t->cells[c];
		const struct explore_row *row = row_of(t, cell);
		fprintf(out, "  {\"name\": ");
		put_string(out, cell->name);
		fprintf(out, ", \"role\": ");
		put_string(out, explore_role_name(row->role));
		fprintf(out, ", \"state\": ");
		put_string(out, row->state->name);
		fprintf(out, ", \"event\": ");
		put_string(out, t->events[cell->event]->name);
		fprintf(out, ", \"rfc\": {\"reply\": ");
		put_string(out, cell->rfc.reply);
		fprintf(out, ", \"state_after\": ");
		put_string(out, cell->rfc.state);
		fprintf(out, ", \"section\": ");
		put_string(out, cell->rfc.section);
		fprintf(out, "}, \"observed\": [");
		for (int i = 0; i < t->target_count; i++) {
			fprintf(out, "%s", i ? ", " : "");
			put_observation(out, t, cell, i);
		}
		fprintf(out, "]}%s\n", c + 1 < t->row_count * t->event_count ? "," : "");
	}
	fprintf(out, "]}\n");
	return ferror(out) ? error_set(error, "write error") : 0;
}

static const char *reply_class(const struct explore_observation *o)
{
	if (o->status != EXPLORE_OBSERVED)
		return "none";
	if (!strncmp(o->reply, "RST", 3))
		return "rst";
	if (!strncmp(o->reply, "ACCEPT", 6))
		return "accept";
	if (!strcmp(o->reply, "DROP"))
		return "drop";
	return "ack";
}

static void put_html_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

/* The anchor report_html gives a run's section: its name with '/' (and any other odd byte) as '.'. */
static void put_anchor(FILE *out, const char *name)
{
	for (; *name; name++)
		fputc(*name == '/' ? '.' : *name, out);
}

int explore_write_html(FILE *out, const struct explore_table *t, char **error)
{
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tcpharness explore</title>\n<style>\n"
	      "body{font-family:sans-serif;font-size:12px} table{border-collapse:collapse}\n"
	      "td,th{border:1px solid #ccc;padding:2px 4px;white-space:nowrap} th{background:#eee}\n"
	      "a{color:inherit;text-decoration:none;display:block}\n"
	      ".rst{background:#f8c8c8} .ack{background:#cde7f7} .accept{background:#c8ecc8} .drop{background:#eee}\n"
	      ".none{background:#fff3b0} .rfc{outline:2px solid #c00}\n</style></head><body>\n", out);
	fputs("<h1>TCP state &times; event</h1>\n<p>", out);
	for (int i = 0; i < t->target_count; i++) {
		fputs(i ? "; " : "", out);
		put_html_text(out, t->labels[i]);
	}
	fputs(". A cell is the reply and the state after; a red frame: RFC 9293 3.10 (RFC 5961, 6191, 7323) says "
	      "otherwise (hover for the RFC's answer). A click opens the cell's ladder.</p>\n<table><tr><th>state</th>",
	      out);
	for (int e = 0; e < t->event_count; e++) {
		fputs("<th title=\"", out);
		put_html_text(out, t->events[e]->what);
		fputs("\">", out);
		put_html_text(out, t->events[e]->name);
		fputs("</th>", out);
	}
	fputs("</tr>\n", out);
	for (int r = 0; r < t->row_count; r++) {
		fprintf(out, "<tr><th>%s %s</th>", explore_role_name(t->rows[r].role), t->rows[r].state->name);
		for (int e = 0; e < t->event_count; e++) {
			const struct explore_cell *cell = &t->cells[r * t->event_count + e];
			fputs("<td>", out);
			for (int i = 0; i < t->target_count; i++) {
				char text[SHORT_MAX];
				explore_cell_short(t, cell, i, text, sizeof text);
				fprintf(out, "<a class=\"%s%s\" href=\"%s/index.html#", reply_class(&cell->seen[i]),
					explore_cell_contradicts_rfc(t, cell, i) ? " rfc" : "", t->kinds[i]);
				put_anchor(out, cell->name);
				fputs("\" title=\"", out);
				put_html_text(out, t->kinds[i]);
				fputs(": ", out);
				for (int k = 0; k < cell->seen[i].reply_count; k++) {
					put_html_text(out, cell->seen[i].replies[k]);
					fputs("; ", out);
				}
				fputs("RFC: ", out);
				put_html_text(out, cell->rfc.reply);
				fputs("→", out);
				put_html_text(out, cell->rfc.state);
				fputs(" (", out);
				put_html_text(out, cell->rfc.section);
				fputs(")\">", out);
				put_html_text(out, text);
				fputs("</a>", out);
			}
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</table></body></html>\n", out);
	return ferror(out) ? error_set(error, "write error") : 0;
}
