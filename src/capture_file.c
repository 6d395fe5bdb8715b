/* capture_file.c - see capture_file.h. */
#include "capture_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"

#define CAPTURE_SNAPLEN 65535

const char *capture_format_suffix(enum capture_format format)
{
	return format == CAPTURE_FORMAT_PCAP ? ".pcap" : ".pcapng";
}

int capture_format_from_name(const char *name)
{
	if (!strcmp(name, "pcapng"))
		return CAPTURE_FORMAT_PCAPNG;
	if (!strcmp(name, "pcap"))
		return CAPTURE_FORMAT_PCAP;
	return -1;
}

/* Classic pcap with nanosecond stamps, by libpcap's own writer. */
static int write_pcap(FILE *out, const struct pcapng_frame *frames, size_t count, char **error)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, CAPTURE_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!dead) {
		fclose(out);
		return error_set(error, "pcap_open_dead failed");
	}
	pcap_dumper_t *dump = pcap_dump_fopen(dead, out);
	if (!dump) {
		int rc = error_set(error, "%s", pcap_geterr(dead));
		pcap_close(dead);
		fclose(out);
		return rc;
	}
	pcap_close(dead);
	for (size_t i = 0; i < count; i++) {
		/* With nanosecond precision, tv_usec holds nanoseconds. */
		struct pcap_pkthdr header = { .ts = { (time_t)(frames[i].at_ns / 1000000000),
						      (suseconds_t)(frames[i].at_ns % 1000000000) },
					      .caplen = frames[i].len, .len = frames[i].len };
		pcap_dump((u_char *)dump, &header, frames[i].bytes);
	}
	int failed = pcap_dump_flush(dump) != 0 || ferror(out);
	int saved = errno;
	pcap_dump_close(dump);
	return failed ? error_set(error, "%s", strerror(saved ? saved : EIO)) : 0;
}

int capture_file_write(FILE *out, enum capture_format format, const struct pcapng_section *section,
		       const struct pcapng_frame *frames, size_t count, char **error)
{
	if (format == CAPTURE_FORMAT_PCAP)
		return write_pcap(out, frames, count, error);
	int rc = pcapng_write(out, section, CAPTURE_SNAPLEN, frames, count, error);
	if (fclose(out) != 0 && rc == 0)
		rc = error_set(error, "%s", strerror(errno));
	return rc;
}
