/* test_wire_batch.c - wire_inject_batch and wire_build_frame against the real kernel (needs root): the
 * frames they produce, captured on the harness end, are byte for byte those wire_inject sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "sandbox.h"
#include "wire.h"

/* 192.0.2.1 and 192.0.2.10, held v4-mapped as ip_address.h holds IPv4. */
#define TARGET_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } }
#define PEER_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 } }
static const struct ip_address target_ip = TARGET_IP, peer_ip = PEER_IP;
/* More than one sendmmsg's worth, so the batch path also crosses its chunk boundary. */
#define SEGMENT_COUNT 150
#define FRAME_MAX 1514

static const struct ip_address peer_ips[] = { PEER_IP };
static const struct sandbox_config config = { TARGET_IP, peer_ips, 1, NULL, 0, false };

struct frame {
	uint32_t len;
	uint8_t bytes[FRAME_MAX];
};

struct bed {
	struct sandbox sandbox;
	pcap_t *outgoing; /* every frame the harness end transmits, whoever sent it */
	struct segment segments[SEGMENT_COUNT];
	struct frame reference[SEGMENT_COUNT]; /* what wire_inject sent */
};

/* Runs of equal shape (rewritten in place by the batch path) broken by shape changes (rebuilt): options
 * of three lengths and none, payloads of three sizes and none. */
static void make_segments(struct segment *segments)
{
	for (int i = 0; i < SEGMENT_COUNT; i++) {
		struct segment *s = &segments[i];
		int shape = i / 7 % 4;
		*s = (struct segment){ .src_ip = peer_ip, .dst_ip = target_ip, .src_port = (uint16_t)(40000 + i % 3),
				       .dst_port = 9, .seq = 1000u * (uint32_t)i, .ack = 77u * (uint32_t)i,
				       .flags = TCP_FLAG_ACK, .window = (uint16_t)(512 + i) };
		if (shape == 0) {
			s->flags = TCP_FLAG_SYN;
			s->options[0] = (struct tcp_option){ .kind = TCP_OPTION_MSS, .mss = (uint16_t)(1460 - i) };
			s->options[1] = (struct tcp_option){ .kind = TCP_OPTION_SACK_PERMITTED };
			s->options[2] = (struct tcp_option){ .kind = TCP_OPTION_TIMESTAMP, .ts_val = (uint32_t)i };
			s->options[3] = (struct tcp_option){ .kind = TCP_OPTION_NOP };
			s->options[4] = (struct tcp_option){ .kind = TCP_OPTION_WSCALE, .wscale = 7 };
			s->option_count = 5;
		} else if (shape == 1) {
			s->flags |= TCP_FLAG_PSH;
			s->payload_len = (uint32_t)(i % 2 ? 1400 : 100);
			s->options[0] = (struct tcp_option){ .kind = TCP_OPTION_TIMESTAMP, .ts_val = (uint32_t)i,
							     .ts_ecr = 5 };
			s->option_count = 1;
		} else if (shape == 2) {
			s->flags |= TCP_FLAG_FIN;
			s->payload_len = 3;
		} else {
			s->options[0] = (struct tcp_option){ .kind = TCP_OPTION_SACK, .sack_block_count = 1,
							     .sack_left = { 1 }, .sack_right = { (uint32_t)i } };
			s->option_count = 1;
		}
	}
}

static struct wire *open_wire(struct bed *bed)
{
	char *error = NULL;
	struct wire *w = wire_open(bed->sandbox.harness_netns_fd, bed->sandbox.harness_ifname,
				   bed->sandbox.harness_mac, bed->sandbox.target_mac, false, 0, &error);
	if (!w)
		fail_msg("wire_open: %s", error);
	return w;
}

/* pcap_activate opens the socket, so it runs inside the harness namespace too. */
static pcap_t *open_outgoing(const struct sandbox *sandbox)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	int saved;
	assert_int_equal(netns_enter(sandbox->harness_netns_fd, &saved), 0);
	pcap_t *p = pcap_create(sandbox->harness_ifname, errbuf);
	int activated = p && pcap_set_immediate_mode(p, 1) == 0 && pcap_set_snaplen(p, FRAME_MAX) == 0 &&
			pcap_set_buffer_size(p, 8 * 1024 * 1024) == 0 && pcap_activate(p) >= 0;
	assert_int_equal(netns_leave(saved), 0);
	if (!activated)
		fail_msg("capture on %s: %s", sandbox->harness_ifname, p ? pcap_geterr(p) : errbuf);
	assert_int_equal(pcap_setdirection(p, PCAP_D_OUT), 0);
	return p;
}

/* The next count frames the harness end transmitted. */
static void take_outgoing(pcap_t *p, struct frame *frames, int count)
{
	int64_t deadline = wire_now_ns() + 2000000000;
	for (int i = 0; i < count;) {
		struct pcap_pkthdr *header;
		const u_char *bytes;
		int rc = pcap_next_ex(p, &header, &bytes);
		assert_true(rc >= 0);
		if (rc == 0) {
			if (wire_now_ns() > deadline)
				fail_msg("only %d of %d frames captured", i, count);
			continue;
		}
		assert_true(header->caplen == header->len && header->len <= FRAME_MAX);
		frames[i].len = header->len;
		memcpy(frames[i].bytes, bytes, header->len);
		i++;
	}
}

static void assert_frames_equal(const struct frame *expected, const struct frame *actual, int index)
{
	if (expected->len != actual->len || memcmp(expected->bytes, actual->bytes, expected->len) != 0)
		fail_msg("frame %d differs from wire_inject's (%u and %u bytes)", index, expected->len, actual->len);
}

/* Each wire numbers IP IDs from 0, so every path gets a fresh one and the same IDs. */
static int setup(void **state)
{
	struct bed *bed = calloc(1, sizeof *bed);
	char *error = NULL;
	int64_t sent;
	if (!bed || sandbox_create(&config, &bed->sandbox, &error) < 0)
		fail_msg("sandbox: %s", error ? error : "out of memory");
	bed->outgoing = open_outgoing(&bed->sandbox);
	make_segments(bed->segments);
	struct wire *w = open_wire(bed);
	for (int i = 0; i < SEGMENT_COUNT; i++)
		if (wire_inject(w, &bed->segments[i], &sent, &error) < 0)
			fail_msg("wire_inject %d: %s", i, error);
	wire_close(w);
	take_outgoing(bed->outgoing, bed->reference, SEGMENT_COUNT);
	*state = bed;
	return 0;
}

static int teardown(void **state)
{
	struct bed *bed = *state;
	pcap_close(bed->outgoing);
	wire_wait_released();
	sandbox_destroy(&bed->sandbox);
	free(bed);
	return 0;
}

static void test_batch_sends_what_single_frames_send(void **state)
{
	struct bed *bed = *state;
	static struct frame batched[SEGMENT_COUNT];
	char *error = NULL;
	int64_t before = wire_now_ns(), sent = 0;
	struct wire *w = open_wire(bed);
	if (wire_inject_batch(w, bed->segments, SEGMENT_COUNT, &sent, &error) < 0)
		fail_msg("wire_inject_batch: %s", error);
	wire_close(w);
	assert_true(sent >= before && sent <= wire_now_ns());
	take_outgoing(bed->outgoing, batched, SEGMENT_COUNT);
	for (int i = 0; i < SEGMENT_COUNT; i++)
		assert_frames_equal(&bed->reference[i], &batched[i], i);
}

static void test_built_frames_are_what_single_frames_send(void **state)
{
	struct bed *bed = *state;
	char *error = NULL;
	struct wire *w = open_wire(bed);
	for (int i = 0; i < SEGMENT_COUNT; i++) {
		struct frame built;
		int len = wire_build_frame(w, &bed->segments[i], built.bytes, sizeof built.bytes, &error);
		if (len < 0)
			fail_msg("wire_build_frame %d: %s", i, error);
		built.len = (uint32_t)len;
		assert_frames_equal(&bed->reference[i], &built, i);
	}
	uint8_t small[20];
	assert_int_equal(wire_build_frame(w, &bed->segments[0], small, sizeof small, &error), -1);
	assert_non_null(strstr(error, "does not fit"));
	free(error);
	wire_close(w);
}

static void test_a_bad_segment_fails_the_batch(void **state)
{
	struct bed *bed = *state;
	struct segment segments[2] = { bed->segments[0], bed->segments[0] };
	char *error = NULL;
	int64_t sent;
	segments[1].payload_len = SEGMENT_MAX_PAYLOAD + 1;
	struct wire *w = open_wire(bed);
	assert_int_equal(wire_inject_batch(w, segments, 2, &sent, &error), -1);
	assert_non_null(strstr(error, "too large"));
	free(error);
	/* The wire stays usable: a later batch rebuilds from scratch. */
	assert_int_equal(wire_inject_batch(w, segments, 1, &sent, &error), 0);
	wire_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_sends_what_single_frames_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_built_frames_are_what_single_frames_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_bad_segment_fails_the_batch, setup, teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_wire_batch: needs root (network namespaces); skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
