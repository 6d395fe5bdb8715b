/* test_worker_link.c - a worker's link and wire serving one case after another (needs root): each case
 * reads only its own frames, on a fresh target namespace, with IP IDs from 0 as on a new wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox.h"
#include "wire.h"
#include "worker_link.h"

/* 192.0.2.1 and 192.0.2.10, held v4-mapped as ip_address.h holds IPv4. */
#define TARGET_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } }
#define PEER_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 } }
static const struct ip_address target_ip = TARGET_IP, peer_ip = PEER_IP;
static const struct ip_address peer_ips[] = { PEER_IP };
static const struct sandbox_config config = { TARGET_IP, peer_ips, 1, NULL, 0, false };

#define WAIT_NS 2000000000LL

/* A SYN to a port nothing listens on: the stack answers it with RST/ACK (tcp_v4_send_reset). */
static void inject_syn(struct wire *w, uint16_t src_port)
{
	struct segment syn = { .src_ip = peer_ip, .dst_ip = target_ip, .src_port = src_port, .dst_port = 9,
			       .seq = 1000, .flags = TCP_FLAG_SYN, .window = 512 };
	int64_t sent_ns;
	char *error = NULL;
	if (wire_inject(w, &syn, &sent_ns, &error) < 0)
		fail_msg("wire_inject: %s", error);
}

static void begin_case(struct worker_link *wl, struct sandbox *sb)
{
	char *error = NULL;
	if (sandbox_create_on(&wl->link, &config, sb, &error) < 0)
		fail_msg("sandbox_create_on: %s", error);
	if (wire_begin_case(wl->wire, sb->target_mac, true, &error) < 0)
		fail_msg("wire_begin_case: %s", error);
}

static void next_frame(struct wire *w, struct wire_frame *frame)
{
	char *error = NULL;
	int rc = wire_next(w, wire_now_ns() + WAIT_NS, frame, &error);
	if (rc < 0)
		fail_msg("wire_next: %s", error);
	assert_int_equal(rc, 1);
	assert_true(frame->decoded);
}

/* The first case's SYN and the stack's RST are left unread in the capture when the case ends; the
 * second case, on the same wire, never reads them, and its own SYN leaves with IP ID 0. */
static void test_each_case_reads_only_its_own_frames(void **state)
{
	(void)state;
	char *error = NULL;
	struct worker_link *wl = worker_link_get(&error);
	if (!wl)
		fail_msg("worker_link_get: %s", error);
	assert_ptr_equal(worker_link_get(&error), wl);

	struct sandbox first;
	begin_case(wl, &first);
	inject_syn(wl->wire, 40001);
	struct wire_frame frame;
	next_frame(wl->wire, &frame);
	assert_int_equal(frame.segment.src_port, 40001);
	inject_syn(wl->wire, 40002);
	struct timespec settle = { 0, 50000000 };
	nanosleep(&settle, NULL);
	sandbox_destroy(&first);

	struct sandbox second;
	begin_case(wl, &second);
	assert_memory_not_equal(first.target_mac, second.target_mac, 6);
	assert_int_equal(wire_recorded_count(wl->wire), 0);
	int rc = wire_next(wl->wire, wire_now_ns() + 100000000, &frame, &error);
	if (rc != 0)
		fail_msg("a frame of the earlier case was read: rc %d, ports %u > %u", rc, frame.segment.src_port,
			 frame.segment.dst_port);
	inject_syn(wl->wire, 40003);
	struct wire_recorded_frame *recorded = NULL;
	int count = 0;
	next_frame(wl->wire, &frame);
	assert_int_equal(frame.segment.src_port, 40003);
	assert_int_equal(frame.segment.flags, TCP_FLAG_SYN);
	next_frame(wl->wire, &frame);
	assert_int_equal(frame.segment.dst_port, 40003);
	assert_int_equal(frame.segment.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	assert_int_equal(wire_recording(wl->wire, &recorded, &count, &error), 0);
	assert_int_equal(count, 2);
	/* Ethernet 14 bytes, then the IPv4 header's ID at offset 4. */
	assert_int_equal(recorded[0].bytes[18] << 8 | recorded[0].bytes[19], 0);
	assert_memory_equal(recorded[0].bytes, second.target_mac, 6);
	assert_memory_equal(recorded[1].bytes + 6, second.target_mac, 6);
	free(recorded);
	sandbox_destroy(&second);

	char first_link[IF_NAMESIZE];
	memcpy(first_link, wl->link.bridge_ifname, IF_NAMESIZE);
	worker_link_release();
	wl = worker_link_get(&error);
	if (!wl)
		fail_msg("worker_link_get: %s", error);
	assert_string_not_equal(wl->link.bridge_ifname, first_link);
	worker_link_release();
	wire_wait_released();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_case_reads_only_its_own_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
