/* test_ip_address.c - one address type for both families, and the family mapping README documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ip_address.h"

static void ipv4_is_held_v4_mapped(void **state)
{
	(void)state;
	struct ip_address a = ip_address_from_ipv4(0xc000020a);
	static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 };
	assert_memory_equal(a.bytes, want, 16);
	assert_true(ip_address_is_ipv4(&a));
	assert_int_equal(ip_address_ipv4(&a), 0xc000020a);
	char text[IP_ADDRESS_TEXT_MAX];
	assert_string_equal(ip_address_format(&a, text), "192.0.2.10");
}

/* The documented rule: a.b.c.d -> 2001:db8::a.b.c.d, one to one, inside 2001:db8::/32. */
static void ipv6_family_maps_into_documentation_prefix(void **state)
{
	(void)state;
	char text[IP_ADDRESS_TEXT_MAX];
	struct ip_address a = family_address(FAMILY_IPV6, 0xc000020a);
	assert_string_equal(ip_address_format(&a, text), "2001:db8::c000:20a");
	assert_false(ip_address_is_ipv4(&a));
	assert_int_equal(ip_address_ipv4(&a), 0);
	struct ip_address b = family_address(FAMILY_IPV6, 0xc000020b);
	assert_false(ip_address_equal(&a, &b));
	a = family_address(FAMILY_IPV6, 0xcb007101); /* 203.0.113.1 */
	assert_string_equal(ip_address_format(&a, text), "2001:db8::cb00:7101");
	/* Any stays any, in the family's own form. */
	a = family_address(FAMILY_IPV6, 0);
	assert_true(ip_address_is_unspecified(&a));
	assert_string_equal(ip_address_format(&a, text), "::");
	a = family_address(FAMILY_IPV4, 0);
	assert_true(ip_address_is_unspecified(&a));
}

static void mapped_family_keeps_ipv4_on_the_wire(void **state)
{
	(void)state;
	struct ip_address a = family_address(FAMILY_MAPPED, 0xc000020a);
	assert_true(ip_address_is_ipv4(&a));
	assert_int_equal(family_socket_domain(FAMILY_MAPPED), AF_INET6);
	assert_int_equal(family_socket_domain(FAMILY_IPV4), AF_INET);
	assert_int_equal(family_socket_domain(FAMILY_IPV6), AF_INET6);
}

static void parse_both_notations(void **state)
{
	(void)state;
	struct ip_address a, b;
	assert_int_equal(ip_address_parse("192.0.2.1", &a), 0);
	assert_int_equal(ip_address_ipv4(&a), 0xc0000201);
	assert_int_equal(ip_address_parse("::ffff:192.0.2.1", &b), 0);
	assert_true(ip_address_equal(&a, &b));
	assert_int_equal(ip_address_parse("2001:db8::c000:201", &a), 0);
	b = family_address(FAMILY_IPV6, 0xc0000201);
	assert_true(ip_address_equal(&a, &b));
	assert_int_equal(ip_address_parse("192.0.2.256", &a), -1);
	assert_int_equal(ip_address_parse("2001:db8:::1", &a), -1);
	assert_int_equal(ip_address_parse("", &a), -1);
}

/* A lab's --target-ip and --allow-address-in-use read back to the address a case writes. */
static void case_address_behind_each_family(void **state)
{
	(void)state;
	struct ip_address a;
	assert_int_equal(ip_address_parse("2001:db8::c000:201", &a), 0);
	assert_int_equal(ip_address_case_ipv4(&a), 0xc0000201);
	a = family_address(FAMILY_MAPPED, 0xc000020a);
	assert_int_equal(ip_address_case_ipv4(&a), 0xc000020a);
	assert_int_equal(ip_address_parse("2001:db8::1", &a), 0);
	assert_int_equal(ip_address_case_ipv4(&a), 1);
	assert_int_equal(ip_address_parse("2001:db8:0:1::c000:201", &a), 0); /* outside 2001:db8::/96 */
	assert_int_equal(ip_address_case_ipv4(&a), 0);
	assert_int_equal(ip_address_parse("fe80::c000:201", &a), 0);
	assert_int_equal(ip_address_case_ipv4(&a), 0);
}

static void family_names(void **state)
{
	(void)state;
	assert_string_equal(family_name(FAMILY_IPV4), "ipv4");
	assert_string_equal(family_name(FAMILY_IPV6), "ipv6");
	assert_string_equal(family_name(FAMILY_MAPPED), "mapped");
	assert_int_equal(family_from_name("4"), FAMILY_IPV4);
	assert_int_equal(family_from_name("6"), FAMILY_IPV6);
	assert_int_equal(family_from_name("mapped"), FAMILY_MAPPED);
	assert_int_equal(family_from_name("ipv6"), FAMILY_IPV6);
	assert_int_equal(family_from_name("all"), -1);
	assert_int_equal(family_from_name("46"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_is_held_v4_mapped),
		cmocka_unit_test(ipv6_family_maps_into_documentation_prefix),
		cmocka_unit_test(mapped_family_keeps_ipv4_on_the_wire),
		cmocka_unit_test(parse_both_notations),
		cmocka_unit_test(case_address_behind_each_family),
		cmocka_unit_test(family_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
