/* tcp_info_fields.c - see tcp_info_fields.h. Offsets come from the kernel's uapi <linux/tcp.h>; the
 * bit fields (tcpi_snd_wscale...) are left out, since no offset reaches them. */
#include "tcp_info_fields.h"

#include <linux/tcp.h>
#include <string.h>

#define FIELD(name) { #name, offsetof(struct tcp_info, name), sizeof(((struct tcp_info *)0)->name) }

static const struct {
	const char *name;
	size_t offset, size;
} fields[] = {
	FIELD(tcpi_state), FIELD(tcpi_ca_state), FIELD(tcpi_retransmits), FIELD(tcpi_probes),
	FIELD(tcpi_backoff), FIELD(tcpi_options), FIELD(tcpi_rto), FIELD(tcpi_ato), FIELD(tcpi_snd_mss),
	FIELD(tcpi_rcv_mss), FIELD(tcpi_unacked), FIELD(tcpi_sacked), FIELD(tcpi_lost), FIELD(tcpi_retrans),
	FIELD(tcpi_fackets), FIELD(tcpi_last_data_sent), FIELD(tcpi_last_ack_sent), FIELD(tcpi_last_data_recv),
	FIELD(tcpi_last_ack_recv), FIELD(tcpi_pmtu), FIELD(tcpi_rcv_ssthresh), FIELD(tcpi_rtt), FIELD(tcpi_rttvar),
	FIELD(tcpi_snd_ssthresh), FIELD(tcpi_snd_cwnd), FIELD(tcpi_advmss), FIELD(tcpi_reordering),
	FIELD(tcpi_rcv_rtt), FIELD(tcpi_rcv_space), FIELD(tcpi_total_retrans), FIELD(tcpi_pacing_rate),
	FIELD(tcpi_max_pacing_rate), FIELD(tcpi_bytes_acked), FIELD(tcpi_bytes_received), FIELD(tcpi_segs_out),
	FIELD(tcpi_segs_in), FIELD(tcpi_notsent_bytes), FIELD(tcpi_min_rtt), FIELD(tcpi_data_segs_in),
	FIELD(tcpi_data_segs_out), FIELD(tcpi_delivery_rate), FIELD(tcpi_busy_time), FIELD(tcpi_rwnd_limited),
	FIELD(tcpi_sndbuf_limited), FIELD(tcpi_delivered), FIELD(tcpi_delivered_ce), FIELD(tcpi_bytes_sent),
	FIELD(tcpi_bytes_retrans), FIELD(tcpi_dsack_dups), FIELD(tcpi_reord_seen), FIELD(tcpi_rcv_ooopack),
	FIELD(tcpi_snd_wnd),
};

static int field_index(const char *name)
{
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (!strcmp(fields[i].name, name))
			return (int)i;
	return -1;
}

bool tcp_info_has_field(const char *name)
{
	return field_index(name) >= 0;
}

bool tcp_info_read(const char *name, const void *info, size_t len, uint64_t *value)
{
	int i = field_index(name);
	if (i < 0 || fields[i].offset + fields[i].size > len)
		return false;
	const unsigned char *at = (const unsigned char *)info + fields[i].offset;
	uint8_t u8;
	uint32_t u32;
	switch (fields[i].size) {
	case 1:
		memcpy(&u8, at, 1);
		*value = u8;
		break;
	case 4:
		memcpy(&u32, at, 4);
		*value = u32;
		break;
	default:
		memcpy(value, at, 8);
		break;
	}
	return true;
}

/* Linux's values: enum tcp_ca_state and TCPI_OPT_* in <linux/tcp.h>, the states in <netinet/tcp.h>
 * order, and TCP_INFINITE_SSTHRESH from include/net/tcp.h. */
static const struct {
	const char *name;
	int64_t value;
} constants[] = {
	{ "TCP_CA_Open", 0 },	       { "TCP_CA_Disorder", 1 },     { "TCP_CA_CWR", 2 },
	{ "TCP_CA_Recovery", 3 },      { "TCP_CA_Loss", 4 },	     { "TCPI_OPT_TIMESTAMPS", 1 },
	{ "TCPI_OPT_SACK", 2 },	       { "TCPI_OPT_WSCALE", 4 },     { "TCPI_OPT_ECN", 8 },
	{ "TCPI_OPT_ECN_SEEN", 16 },   { "TCPI_OPT_SYN_DATA", 32 },  { "TCP_INFINITE_SSTHRESH", 0x7fffffff },
	{ "TCP_ESTABLISHED", 1 },      { "TCP_SYN_SENT", 2 },	     { "TCP_SYN_RECV", 3 },
	{ "TCP_FIN_WAIT1", 4 },	       { "TCP_FIN_WAIT2", 5 },	     { "TCP_TIME_WAIT", 6 },
	{ "TCP_CLOSE", 7 },	       { "TCP_CLOSE_WAIT", 8 },	     { "TCP_LAST_ACK", 9 },
	{ "TCP_LISTEN", 10 },	       { "TCP_CLOSING", 11 },
};

bool tcp_info_constant(const char *name, int64_t *value)
{
	for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++) {
		if (!strcmp(constants[i].name, name)) {
			*value = constants[i].value;
			return true;
		}
	}
	return false;
}
