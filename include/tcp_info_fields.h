/* tcp_info_fields.h - Linux's struct tcp_info field by field (tcpi_snd_cwnd...), and the constants
 * packetdrill's %{ }% blocks compare them with (TCP_CA_Recovery, TCPI_OPT_SACK...). Pure code. */
#ifndef TCPHARNESS_TCP_INFO_FIELDS_H
#define TCPHARNESS_TCP_INFO_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_INFO_FIELD_NAME_MAX 32 /* with its NUL */

/* "tcpi_snd_cwnd" -> true when struct tcp_info has that (whole-byte) field. */
bool tcp_info_has_field(const char *name);

/* The named field out of info (len bytes a getsockopt(TCP_INFO) filled): true with *value, false
 * when the name is unknown or the stack's tcp_info is too short to hold it. */
bool tcp_info_read(const char *name, const void *info, size_t len, uint64_t *value);

/* A constant by name (TCP_CA_Open..TCP_CA_Loss, TCPI_OPT_*, TCP_INFINITE_SSTHRESH, TCP_ESTABLISHED...
 * TCP_CLOSING): true with *value. */
bool tcp_info_constant(const char *name, int64_t *value);

#endif
