/* ip_address.h - one type for an IPv4 or IPv6 address, and the address families a case runs in.
 * A case file writes IPv4 documentation addresses; each family maps them one to one (README). */
#ifndef TCPHARNESS_IP_ADDRESS_H
#define TCPHARNESS_IP_ADDRESS_H

#include <stdbool.h>
#include <stdint.h>

/* 16 bytes in network order; an IPv4 address is held as ::ffff:a.b.c.d (RFC 4291 2.5.5.2), so one
 * comparison serves both families and an AF_INET6 socket takes it as it is. */
struct ip_address {
	uint8_t bytes[16];
};

/* Longest text ip_address_format writes, with its NUL ("ffff:...:ffff" or a dotted quad). */
#define IP_ADDRESS_TEXT_MAX 46

/* How a run reaches the stack: the wire's IP version and the application's socket family.
 *   ipv4:   IPv4 on the wire, AF_INET sockets;
 *   ipv6:   IPv6 on the wire (every case address mapped by family_address), AF_INET6 sockets;
 *   mapped: IPv4 on the wire, AF_INET6 sockets with IPV6_V6ONLY off (packetdrill's ipv4-mapped-ipv6):
 *           the application sees its peers as ::ffff:a.b.c.d. */
enum address_family { FAMILY_IPV4, FAMILY_IPV6, FAMILY_MAPPED };
#define FAMILY_COUNT 3
/* A set of families, bit (1 << family). */
#define FAMILY_ALL ((1u << FAMILY_COUNT) - 1)

struct ip_address ip_address_from_ipv4(uint32_t host_order);
bool ip_address_is_ipv4(const struct ip_address *a);
/* The IPv4 address in host order; 0 for an address that is not IPv4. */
uint32_t ip_address_ipv4(const struct ip_address *a);
bool ip_address_equal(const struct ip_address *a, const struct ip_address *b);
bool ip_address_is_unspecified(const struct ip_address *a); /* 0.0.0.0 (as held) or :: */

/* "192.0.2.1" for an IPv4 address, "2001:db8::c000:201" for the others; returns text. */
const char *ip_address_format(const struct ip_address *a, char text[IP_ADDRESS_TEXT_MAX]);
/* Reads either notation. 0, or -1 when text is neither. */
int ip_address_parse(const char *text, struct ip_address *out);

/* "ipv4", "ipv6", "mapped". */
const char *family_name(enum address_family f);
/* The family named name ("4" and "6" too); -1 when there is none. */
int family_from_name(const char *name);
/* The address a case's IPv4 address stands for in family f: itself for ipv4 and mapped; for ipv6,
 * 2001:db8::a.b.c.d, the IPv4 address in the low 32 bits of 2001:db8::/96 (192.0.2.10 ->
 * 2001:db8::c000:20a). 0.0.0.0 (any) stays the unspecified address of its family. */
struct ip_address family_address(enum address_family f, uint32_t case_ipv4);
/* The case's IPv4 address (host order) a stands for, family_address backwards: a itself when IPv4,
 * the low 32 bits when a is in 2001:db8::/96; 0 for any other address (a lab host's IPv6 address
 * outside that block cannot be written in a case). */
uint32_t ip_address_case_ipv4(const struct ip_address *a);
/* AF_INET for ipv4, AF_INET6 for ipv6 and mapped: the application's sockets. */
int family_socket_domain(enum address_family f);

#endif
