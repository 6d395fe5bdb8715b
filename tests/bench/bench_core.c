/* bench_core.c - timings behind scripts/bench.sh, against the running kernel (needs root):
 * sandbox create+destroy, a case's whole setup+teardown, and inject -> reply latency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "sandbox.h"
#include "wire.h"

#define TARGET_IP 0xc0000201u /* 192.0.2.1 */
#define PEER_IP 0xc000020au   /* 192.0.2.10 */

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void print_stats(const char *what, int64_t *samples_ns, int n)
{
	qsort(samples_ns, (size_t)n, sizeof *samples_ns, compare_int64);
	printf("%-32s median %9.1f us   p90 %9.1f us   (n=%d)\n", what, (double)samples_ns[n / 2] / 1e3,
	       (double)samples_ns[n * 9 / 10] / 1e3, n);
}

static const uint32_t peer_ips[] = { PEER_IP };
static const struct sandbox_config config = { TARGET_IP, peer_ips, 1, NULL, 0 };

static int die(const char *what, char *error)
{
	fprintf(stderr, "bench: %s: %s\n", what, error ? error : "?");
	free(error);
	return 1;
}

/* A sandbox with a wire on its harness end, as run_case builds them. NULL after reporting why. */
static struct wire *open_bed(struct sandbox *sandbox)
{
	char *error = NULL;
	if (sandbox_create(&config, sandbox, &error) < 0) {
		die("sandbox", error);
		return NULL;
	}
	struct wire *wire = wire_open(sandbox->harness_netns_fd, sandbox->harness_ifname, sandbox->harness_mac,
				      sandbox->target_mac, NULL, &error);
	if (!wire)
		die("wire", error);
	return wire;
}

static int bench_sandbox(int runs, int64_t *samples)
{
	for (int i = 0; i < runs; i++) {
		struct sandbox sandbox;
		char *error = NULL;
		int64_t start = wire_now_ns();
		if (sandbox_create(&config, &sandbox, &error) < 0)
			return die("sandbox", error);
		sandbox_destroy(&sandbox);
		samples[i] = wire_now_ns() - start;
	}
	print_stats("sandbox create+destroy", samples, runs);
	return 0;
}

/* What run_case pays before the first step and after the last: sandbox, wire, agent. */
static int bench_case_setup(int runs, int64_t *samples)
{
	for (int i = 0; i < runs; i++) {
		struct sandbox sandbox;
		struct agent agent = { .pid = -1, .fd = -1 };
		char *error = NULL;
		int64_t start = wire_now_ns();
		struct wire *wire = open_bed(&sandbox);
		if (!wire)
			return 1;
		if (agent_spawn_local(sandbox.target_netns_fd, &agent, &error) < 0)
			return die("agent", error);
		agent_stop(&agent);
		wire_close(wire);
		sandbox_destroy(&sandbox);
		samples[i] = wire_now_ns() - start;
	}
	wire_wait_released();
	print_stats("case setup+teardown", samples, runs);
	return 0;
}

/* A SYN to a closed port: the RST is generated inside libnet_write's system call. */
static int bench_inject_reply(int runs, int64_t *samples)
{
	struct sandbox sandbox;
	char *error = NULL;
	struct wire *wire = open_bed(&sandbox);
	if (!wire)
		return 1;
	struct segment syn = { .src_ip = PEER_IP, .dst_ip = TARGET_IP, .dst_port = 9, .flags = TCP_FLAG_SYN,
			       .window = 64240 };
	for (int i = 0; i < runs; i++) {
		syn.src_port = (uint16_t)(20000 + i % 20000);
		syn.seq = (uint32_t)i;
		int64_t sent;
		if (wire_inject(wire, &syn, &sent, &error) < 0)
			return die("inject", error);
		struct wire_frame frame;
		for (;;) {
			int rc = wire_next(wire, sent + 1000000000, &frame, &error);
			if (rc <= 0)
				return die("no reply", error);
			if (frame.decoded && frame.segment.src_ip == TARGET_IP)
				break;
		}
		samples[i] = frame.at_ns - sent;
	}
	wire_close(wire);
	wire_wait_released();
	sandbox_destroy(&sandbox);
	print_stats("inject -> reply captured", samples, runs);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 200;
	if (runs < 10 || runs > 100000) {
		fprintf(stderr, "usage: %s [RUNS >= 10]\n", argv[0]);
		return 2;
	}
	int64_t *samples = calloc((size_t)runs * 5, sizeof *samples);
	if (!samples)
		return 1;
	int rc = bench_sandbox(runs, samples) || bench_case_setup(runs, samples) || bench_inject_reply(runs * 5, samples);
	free(samples);
	return rc;
}
