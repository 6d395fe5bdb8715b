/* Unit tests for tcp_fastopen_cookie.c: SipHash-2-4 against the paper's vector, the server cookie
 * against cookies Linux gave (packetdrill's TFO_COOKIE for its addresses, the sandbox's from a SYN-ACK
 * captured here on Linux 6.18). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_fastopen_cookie.h"

/* SipHash paper, appendix A: key 00..0f, message 00..0e (15 bytes). */
static void siphash_matches_the_paper(void **state)
{
	(void)state;
	uint8_t message[15];
	for (size_t i = 0; i < sizeof message; i++)
		message[i] = (uint8_t)i;
	assert_int_equal(siphash_2_4(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, message, sizeof message),
			 0xa129ca6149be45e5ull);
}

static void expect_cookie(const char *key, const char *client, const char *server, const char *hex)
{
	struct ip_address c, s;
	assert_int_equal(ip_address_parse(client, &c), 0);
	assert_int_equal(ip_address_parse(server, &s), 0);
	uint8_t cookie[TCP_FASTOPEN_COOKIE_SIZE];
	assert_int_equal(tcp_fastopen_server_cookie(key, &c, &s, cookie), 0);
	char text[2 * TCP_FASTOPEN_COOKIE_SIZE + 1];
	for (int i = 0; i < TCP_FASTOPEN_COOKIE_SIZE; i++)
		snprintf(text + 2 * i, 3, "%02x", cookie[i]);
	assert_string_equal(text, hex);
}

/* packetdrill's run_all.py: -D TFO_COOKIE=3021b9d889017eeb for remote 192.0.2.1, local 192.168.0.1
 * and the key its defaults.sh sets; the sandbox's peer 192.0.2.2 got b3f936a51baeaf84 from 192.0.2.1. */
static void server_cookie_matches_linux(void **state)
{
	(void)state;
	const char *key = "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4";
	expect_cookie(key, "192.0.2.1", "192.168.0.1", "3021b9d889017eeb");
	expect_cookie(key, "192.0.2.2", "192.0.2.1", "b3f936a51baeaf84");
	/* A backup key after ',' does not sign. */
	expect_cookie("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4,00000000-00000000-00000000-00000000", "192.0.2.1",
		      "192.168.0.1", "3021b9d889017eeb");
	/* The IPv6 one packetdrill's run_all.py gives for its IPv6 addresses. */
	expect_cookie(key, "fd3d:fa7b:d17d::1", "fd3d:a0b:17d6::1", "c1d1e9742a47a9bc");
}

static void server_cookie_refuses_bad_input(void **state)
{
	(void)state;
	struct ip_address v4, v6;
	assert_int_equal(ip_address_parse("192.0.2.1", &v4), 0);
	assert_int_equal(ip_address_parse("2001:db8::1", &v6), 0);
	uint8_t cookie[TCP_FASTOPEN_COOKIE_SIZE];
	assert_int_equal(tcp_fastopen_server_cookie("a1a1a1a1-b2b2b2b2-c3c3c3c3", &v4, &v4, cookie), -1);
	assert_int_equal(tcp_fastopen_server_cookie("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4x", &v4, &v4, cookie), -1);
	assert_int_equal(tcp_fastopen_server_cookie("a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4", &v4, &v6, cookie), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(siphash_matches_the_paper),
		cmocka_unit_test(server_cookie_matches_linux),
		cmocka_unit_test(server_cookie_refuses_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
