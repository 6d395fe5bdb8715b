/* ip_address.c - see ip_address.h. */
#include "ip_address.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
/* 2001:db8::/96, where the ipv6 family puts a case's IPv4 addresses. */
static const uint8_t documentation_prefix[12] = { 0x20, 0x01, 0x0d, 0xb8 };

static struct ip_address with_low_ipv4(const uint8_t prefix[12], uint32_t host_order)
{
	struct ip_address a;
	memcpy(a.bytes, prefix, 12);
	a.bytes[12] = (uint8_t)(host_order >> 24);
	a.bytes[13] = (uint8_t)(host_order >> 16);
	a.bytes[14] = (uint8_t)(host_order >> 8);
	a.bytes[15] = (uint8_t)host_order;
	return a;
}

struct ip_address ip_address_from_ipv4(uint32_t host_order)
{
	return with_low_ipv4(v4_mapped_prefix, host_order);
}

bool ip_address_is_ipv4(const struct ip_address *a)
{
	return memcmp(a->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

uint32_t ip_address_ipv4(const struct ip_address *a)
{
	if (!ip_address_is_ipv4(a))
		return 0;
	return (uint32_t)a->bytes[12] << 24 | (uint32_t)a->bytes[13] << 16 | (uint32_t)a->bytes[14] << 8 |
	       a->bytes[15];
}

bool ip_address_equal(const struct ip_address *a, const struct ip_address *b)
{
	return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

bool ip_address_is_unspecified(const struct ip_address *a)
{
	static const uint8_t zero[16];
	return memcmp(a->bytes, zero, 16) == 0 || (ip_address_is_ipv4(a) && ip_address_ipv4(a) == 0);
}

const char *ip_address_format(const struct ip_address *a, char text[IP_ADDRESS_TEXT_MAX])
{
	if (ip_address_is_ipv4(a))
		inet_ntop(AF_INET, a->bytes + 12, text, IP_ADDRESS_TEXT_MAX);
	else
		inet_ntop(AF_INET6, a->bytes, text, IP_ADDRESS_TEXT_MAX);
	return text;
}

int ip_address_parse(const char *text, struct ip_address *out)
{
	struct in_addr v4;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		*out = ip_address_from_ipv4(ntohl(v4.s_addr));
		return 0;
	}
	return inet_pton(AF_INET6, text, out->bytes) == 1 ? 0 : -1;
}

static const char *const family_names[FAMILY_COUNT] = { "ipv4", "ipv6", "mapped" };

const char *family_name(enum address_family f)
{
	return (unsigned)f < FAMILY_COUNT ? family_names[f] : "?";
}

int family_from_name(const char *name)
{
	if (strcmp(name, "4") == 0)
		return FAMILY_IPV4;
	if (strcmp(name, "6") == 0)
		return FAMILY_IPV6;
	for (int f = 0; f < FAMILY_COUNT; f++)
		if (strcmp(name, family_names[f]) == 0)
			return f;
	return -1;
}

struct ip_address family_address(enum address_family f, uint32_t case_ipv4)
{
	if (f != FAMILY_IPV6)
		return ip_address_from_ipv4(case_ipv4);
	if (case_ipv4 == 0)
		return (struct ip_address){ { 0 } };
	return with_low_ipv4(documentation_prefix, case_ipv4);
}

uint32_t ip_address_case_ipv4(const struct ip_address *a)
{
	if (ip_address_is_ipv4(a))
		return ip_address_ipv4(a);
	if (memcmp(a->bytes, documentation_prefix, sizeof documentation_prefix) != 0)
		return 0;
	return (uint32_t)a->bytes[12] << 24 | (uint32_t)a->bytes[13] << 16 | (uint32_t)a->bytes[14] << 8 |
	       a->bytes[15];
}

int family_socket_domain(enum address_family f)
{
	return f == FAMILY_IPV4 ? AF_INET : AF_INET6;
}
