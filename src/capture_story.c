/* capture_story.c - see capture_story.h. */
#include "capture_story.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

static char *message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	return text;
}

static const char *case_name(const struct case_file *c)
{
	return c->name ? c->name : c->path;
}

/* `time_wait/lost_final_ack.tc:24`: a case line as the comments name it. */
static char *line_label(const struct case_file *c, int step)
{
	const char *suffix = strrchr(c->path, '.');
	if (!suffix || strchr(suffix, '/'))
		suffix = "";
	return message("%s%s:%d", case_name(c), suffix, c->steps[step].where.line);
}

/* The comment on an event's frame: the line that sent or read it, and what that line said. */
static char *event_comment(const struct case_file *c, const struct run_event *e)
{
	if (e->kind == RUN_EVENT_TEARDOWN)
		return message("teardown: the stack sent %s as the harness closed the application's sockets, after "
			       "the last line (not judged)", e->observed);
	if (e->step < 0)
		return message("no line expected this frame (%s)", e->observed);
	char *label = line_label(c, e->step);
	char *text;
	if (e->kind == RUN_EVENT_INJECTED)
		text = message("%s injected %s", label, e->observed);
	else if (!strcmp(e->expected, "none"))
		text = message("%s expected none, the stack sent %s", label, e->observed);
	else if (e->expected[0])
		text = message("%s expected %s", label, e->expected);
	else
		text = message("%s observed %s", label, e->observed);
	free(label);
	return text;
}

/* What broke the case, for the frame that broke it and the section header: the verdict, the diagnostic's
 * first line, and the diff's first line (after the source line it quotes). */
static char *verdict_comment(const struct case_result *result)
{
	static const char *const words[VERDICT_COUNT] = { "PASS", "FAIL", "SKIP", "ERROR" };
	const char *text = result->message ? result->message : "";
	int head = (int)strcspn(text, "\n");
	const char *diff = text[head] ? strchr(text + head + 1, '\n') : NULL;
	diff = diff ? diff + 1 + strspn(diff + 1, " ") : "";
	int diff_len = (int)strcspn(diff, "\n");
	return message("%s: %.*s%s%.*s", words[result->verdict], head, text, diff_len ? " -- " : "", diff_len, diff);
}

/* Each frame's line comment into owned[] (and the frames' first comment), the verdict as the second
 * comment of a frame that broke the case. 0, or -1 out of memory. */
static int comment_frames(const struct capture_story *story, const char *verdict, struct pcapng_frame *frames,
			  char **owned, int count)
{
	for (int i = 0; i < story->event_count; i++) {
		const struct run_event *e = &story->events[i];
		if (e->frame < 0 || e->frame >= count || owned[e->frame])
			continue;
		if (!(frames[e->frame].comments[0] = owned[e->frame] = event_comment(story->c, e)))
			return -1;
		if (e->broke && verdict)
			frames[e->frame].comments[1] = verdict;
	}
	/* Steps run in order, so the recording's lengths when each began only grow. */
	for (int i = 0, step = -1; story->first_frame && i < count; i++) {
		for (int next = step + 1; next < story->c->step_count; next++) {
			if (story->first_frame[next] > i)
				break;
			if (story->first_frame[next] >= 0)
				step = next;
		}
		if (owned[i] || step < 0)
			continue;
		char *label = line_label(story->c, step);
		frames[i].comments[0] = owned[i] = label ? message("%s ran when this frame was captured", label) : NULL;
		free(label);
		if (!owned[i])
			return -1;
	}
	return 0;
}

int capture_story_write(FILE *out, enum capture_format format, const struct capture_story *story,
			const struct wire_recorded_frame *recorded, int count, char **error)
{
	const struct case_file *c = story->c;
	struct pcapng_frame *frames = calloc((size_t)count + 1, sizeof *frames);
	char **owned = calloc((size_t)count + 1, sizeof *owned); /* each frame's line comment */
	bool failed = story->result->verdict != VERDICT_PASS;
	char *verdict = failed ? verdict_comment(story->result) : NULL;
	char *application = message("tcpharness %s", TCPHARNESS_VERSION);
	char *named = message("case %s (%s)", case_name(c), c->path);
	char *where = message("variant %s, family %s, target %s", story->variant >= 0 ? c->variants[story->variant].name
							       : "(none)",
			      family_name(story->family), story->target);
	int rc = -1;
	if (frames && owned && (verdict || !failed) && application && named && where) {
		for (int i = 0; i < count; i++)
			frames[i] = (struct pcapng_frame){ recorded[i].at_ns, recorded[i].bytes, recorded[i].len, { NULL } };
		rc = comment_frames(story, verdict, frames, owned, count);
	}
	if (rc == 0) {
		struct pcapng_section section = { application, { named, where, verdict } };
		rc = capture_file_write(out, format, &section, frames, (size_t)count, error);
	} else {
		fclose(out);
		error_set(error, "out of memory");
	}
	for (int i = 0; owned && i < count; i++)
		free(owned[i]);
	free(owned);
	free(frames);
	free(verdict);
	free(application);
	free(named);
	free(where);
	return rc;
}
