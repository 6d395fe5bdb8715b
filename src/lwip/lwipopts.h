/* lwipopts.h - lwIP's compile-time options for the lwip target: Debian 12's own (the file its
 * liblwip0 was built with) plus the TCP options Debian leaves off, so the catalogue's cases that need
 * timestamps, window scaling or SACK run on lwIP instead of being SKIPs, and IPv6 kept quiet.
 *
 * lwIP's opt.h includes "lwipopts.h"; this directory comes first on the include path, so this file is
 * the one it finds. TCPHARNESS_LWIP_DEBIAN_OPTS is the path of Debian's (cmake, from the source
 * package scripts/lwip-source.sh unpacks). */
#ifndef TCPHARNESS_LWIPOPTS_H
#define TCPHARNESS_LWIPOPTS_H

#include TCPHARNESS_LWIP_DEBIAN_OPTS

/* RFC 7323 timestamps: lwIP 2.1.3 sends TSval from sys_now() (ms) and echoes ts_recent; it has no
 * PAWS check (tcp_in.c tcp_parseopt only records ts_recent). */
#undef LWIP_TCP_TIMESTAMPS
#define LWIP_TCP_TIMESTAMPS 1
/* RFC 2018 SACK: SACK_PERM in the SYN-ACK and SACK blocks for queued out-of-order data (tcp_out.c
 * tcp_build_sack_option); incoming SACK blocks are still ignored. */
#undef LWIP_TCP_SACK_OUT
#define LWIP_TCP_SACK_OUT 1
/* Debian sets window scaling on already (wscale 1); restated because the catalogue relies on it. */
#undef LWIP_WND_SCALE
#define LWIP_WND_SCALE 1

/* IPv6 (Debian builds it in) on a silent link: the sandbox's address is static and unique, so no
 * duplicate address detection (netif.c netif_ip6_addr_set_state), no router solicitation
 * (nd6_tmr), no SLAAC, no forwarding, and no MLD reports (mld6.c); without MLD, ip6_input accepts
 * the solicited-node groups of the netif's own addresses, which is all neighbour discovery needs. */
#undef LWIP_IPV6_DUP_DETECT_ATTEMPTS
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#undef LWIP_IPV6_SEND_ROUTER_SOLICIT
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#undef LWIP_IPV6_AUTOCONFIG
#define LWIP_IPV6_AUTOCONFIG 0
#undef LWIP_IPV6_FORWARD
#define LWIP_IPV6_FORWARD 0
#undef LWIP_IPV6_MLD
#define LWIP_IPV6_MLD 0

#endif
