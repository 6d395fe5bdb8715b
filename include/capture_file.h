/* capture_file.h - a case's capture file, written once the case is over from the frames the wire
 * recorded: pcapng with the case's story in comments (pcapng.h), or classic pcap without them. */
#ifndef TCPHARNESS_CAPTURE_FILE_H
#define TCPHARNESS_CAPTURE_FILE_H

#include <stdio.h>

#include "pcapng.h"

/* pcapng is the default: Wireshark and dumpcap have written it by default since Wireshark 1.8, every
 * libpcap since 1.1 reads it (tcpdump -r included), and only it carries comments. Classic pcap is for
 * tools that read nothing else. */
enum capture_format { CAPTURE_FORMAT_PCAPNG, CAPTURE_FORMAT_PCAP };

/* ".pcapng" or ".pcap". */
const char *capture_format_suffix(enum capture_format format);

/* "pcapng" or "pcap" as a format, or -1. */
int capture_format_from_name(const char *name);

/* Writes frames[0..count) to out in format and closes out (also on failure); classic pcap drops the
 * comments. 0, or -1 with *error malloc'd. */
int capture_file_write(FILE *out, enum capture_format format, const struct pcapng_section *section,
		       const struct pcapng_frame *frames, size_t count, char **error);

#endif
