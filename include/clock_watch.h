/* clock_watch.h - stalls of the machine the agent runs on, seen from inside it: spans in which not
 * even a real-time thread's timer fired (a VM guest whose vCPU the host did not run), for the harness. */
#ifndef TCPHARNESS_CLOCK_WATCH_H
#define TCPHARNESS_CLOCK_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The watching thread sleeps this long at a time, so a stall of S shows as at least S less this. */
#define CLOCK_WATCH_PERIOD_NS 10000000LL
/* A wake later than this is a stall; below it is a guest's ordinary timer slack. */
#define CLOCK_WATCH_STALL_NS 2000000LL

/* Starts the watching thread (SCHED_FIFO when allowed, so the guest's own tasks cannot delay it; only
 * its interrupts can). 0, or an errno; a second call does nothing. */
int clock_watch_start(void);
bool clock_watch_running(void);

/* The stalls that ended, or go on, within the last CLOCK_WATCH_KEPT of them, most recent first, as
 * "AGO_MS:LENGTH_MS" separated by spaces: it ended AGO_MS before now and lasted LENGTH_MS (an ongoing
 * one ends now). As many as fit in size; returns how many were written. */
int clock_watch_recent(char *text, size_t size);

/* Harness side, pure: how much of the stalls in text (clock_watch_recent's, received at now_ns on the
 * harness's clock) lies within [from_ns, to_ns], and the longest such part in *longest_ns. -1 when the
 * text is malformed. */
int64_t clock_watch_stalled_between(const char *text, int64_t now_ns, int64_t from_ns, int64_t to_ns,
				    int64_t *longest_ns);

#endif
