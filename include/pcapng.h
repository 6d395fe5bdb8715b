/* pcapng.h - writes a pcapng capture file (draft-ietf-opsawg-pcapng): one section whose header carries
 * comments, one Ethernet interface with nanosecond stamps, and frames that each may carry comments. */
#ifndef TCPHARNESS_PCAPNG_H
#define TCPHARNESS_PCAPNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_MAX_COMMENTS 4

/* One frame as captured: CLOCK_REALTIME nanoseconds, the bytes from the Ethernet header on. */
struct pcapng_frame {
	int64_t at_ns;
	const uint8_t *bytes;
	uint32_t len;
	const char *comments[PCAPNG_MAX_COMMENTS]; /* NULL-terminated when fewer; each an opt_comment */
};

/* What the section header says about the whole file. */
struct pcapng_section {
	const char *application;                   /* shb_userappl: "tcpharness 0.1.0 (git ...)" */
	const char *comments[PCAPNG_MAX_COMMENTS]; /* NULL-terminated when fewer */
};

/* Writes the section header, the interface (link type Ethernet, snaplen), then frames[0..count) to out,
 * in the host's byte order (readers take either, section 4.1). A comment longer than an option holds
 * (65535 bytes) is cut there. 0, or -1 with *error malloc'd (a failed write). */
int pcapng_write(FILE *out, const struct pcapng_section *section, uint32_t snaplen,
		 const struct pcapng_frame *frames, size_t count, char **error);

#endif
