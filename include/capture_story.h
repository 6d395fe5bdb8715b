/* capture_story.h - the comments that let a case's capture tell its story in Wireshark: each frame named
 * by the case line that injected or read it, the verdict on the frame that broke the case, a section
 * header naming the case, variant, family, target and harness. Written once the case is over. */
#ifndef TCPHARNESS_CAPTURE_STORY_H
#define TCPHARNESS_CAPTURE_STORY_H

#include <stdio.h>

#include "capture_file.h"
#include "case.h"
#include "run.h"
#include "wire.h"

/* What the run knows once a case is over. */
struct capture_story {
	const struct case_file *c;
	int variant;                     /* index into c->variants; -1: none */
	enum address_family family;
	const char *target;              /* target_label(): "local: Linux 6.18.1" */
	const struct case_result *result; /* its verdict and message */
	const struct run_event *events;  /* their frame fields index the frames */
	int event_count;
	const int *first_frame;          /* per step: how many frames were recorded when it began; -1: it never ran */
};

/* Writes frames[0..count) to out in format with the story's comments (capture_file.h), and closes out.
 * A teardown event's frame says so; a frame no event holds (a storm's) is named by the line that ran
 * when it was captured. 0, or -1 with *error malloc'd. */
int capture_story_write(FILE *out, enum capture_format format, const struct capture_story *story,
			const struct wire_recorded_frame *frames, int count, char **error);

#endif
