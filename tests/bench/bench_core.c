/* bench_core.c - timings behind scripts/bench.sh, against the running kernel (needs root):
 * sandbox create+destroy, a case's whole setup+teardown, inject -> reply latency, (`rates`) crafted
 * segments per second for the harness and a raw packet socket, in a sandbox the script's other senders
 * share, and (`storm`) connection lifecycles per second in storm mode. */
#include <errno.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "error_text.h"
#include "netns.h"
#include "sandbox.h"
#include "storm.h"
#include "wire.h"
#include "worker_link.h"

/* 192.0.2.1 and 192.0.2.10, held v4-mapped as ip_address.h holds IPv4. */
#define TARGET_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 } }
#define PEER_IP { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10 } }
static const struct ip_address target_ip = TARGET_IP;

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

static const struct ip_address peer_ips[] = { PEER_IP };
static const struct sandbox_config config = { TARGET_IP, peer_ips, 1, NULL, 0, false };

static int die(const char *what, char *error)
{
	fprintf(stderr, "bench: %s: %s\n", what, error ? error : "?");
	free(error);
	return 1;
}

/* A sandbox with a wire on its harness end, as run_case builds them, its ring holding ring_frames (0: the
 * default). NULL after reporting why. */
static struct wire *open_bed(struct sandbox *sandbox, uint32_t ring_frames)
{
	char *error = NULL;
	if (sandbox_create(&config, sandbox, &error) < 0) {
		die("sandbox", error);
		return NULL;
	}
	struct wire *wire = wire_open(sandbox->harness_netns_fd, sandbox->harness_ifname, sandbox->harness_mac,
				      sandbox->target_mac, false, ring_frames, &error);
	if (!wire)
		die("wire", error);
	return wire;
}

/* Sandboxes created and destroyed: each in a harness namespace of its own (link NULL), or on a
 * worker's link (what a local case's sandbox is: the target namespace, the target end moved in and back). */
static int bench_sandbox(struct sandbox_link *link, const char *what, int runs, int64_t *samples)
{
	for (int i = 0; i < runs; i++) {
		struct sandbox sandbox;
		char *error = NULL;
		int64_t start = wire_now_ns();
		int rc = link ? sandbox_create_on(link, &config, &sandbox, &error)
			      : sandbox_create(&config, &sandbox, &error);
		if (rc < 0)
			return die("sandbox", error);
		sandbox_destroy(&sandbox);
		samples[i] = wire_now_ns() - start;
	}
	print_stats(what, samples, runs);
	return 0;
}

static int bench_sandbox_on_link(int runs, int64_t *samples)
{
	char *error = NULL;
	struct worker_link *wl = worker_link_get(&error);
	if (!wl)
		return die("worker link", error);
	return bench_sandbox(&wl->link, "sandbox on a link create+destroy", runs, samples);
}

/* What run_case pays before the first step and after the last on the local target: a sandbox on the
 * worker's link, its wire readied for the case, the worker's agent moved into the case's namespace (the
 * link itself and the agent's fork are the worker's, paid at its first case); with fork_agent, an agent
 * forked and stopped per case, as before issue 18's agent per worker. */
static int bench_case_setup(int runs, int64_t *samples, bool fork_agent)
{
	char *error = NULL;
	struct worker_link *wl = worker_link_get(&error);
	if (!wl)
		return die("worker link", error);
	for (int i = 0; i < runs; i++) {
		struct sandbox sandbox;
		struct agent agent = { .pid = -1, .fd = -1 };
		int64_t start = wire_now_ns();
		if (sandbox_create_on(&wl->link, &config, &sandbox, &error) < 0)
			return die("sandbox", error);
		if (wire_begin_case(wl->wire, sandbox.target_mac, true, &error) < 0)
			return die("wire", error);
		if (fork_agent ? agent_spawn_local(sandbox.target_netns_fd, &agent, &error) < 0
			       : !worker_link_agent(wl, sandbox.target_netns_fd, &error))
			return die("agent", error);
		agent_stop(&agent);
		sandbox_destroy(&sandbox);
		samples[i] = wire_now_ns() - start;
	}
	print_stats(fork_agent ? "case setup+teardown, agent forked" : "case setup+teardown", samples, runs);
	return 0;
}

/* The same with a pair and a wire of the case's own, as every case had before issue 18 (and targets
 * without a worker link still have): the capture's ring set up and released per case. */
static int bench_case_setup_own_wire(int runs, int64_t *samples)
{
	for (int i = 0; i < runs; i++) {
		struct sandbox sandbox;
		struct agent agent = { .pid = -1, .fd = -1 };
		char *error = NULL;
		int64_t start = wire_now_ns();
		struct wire *wire = open_bed(&sandbox, 0);
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
	print_stats("case setup+teardown, own wire", samples, runs);
	return 0;
}

/* A SYN to a closed port: the RST is generated inside libnet_write's system call. */
static int bench_inject_reply(int runs, int64_t *samples)
{
	struct sandbox sandbox;
	char *error = NULL;
	struct wire *wire = open_bed(&sandbox, 0);
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
			if (frame.decoded && ip_address_equal(&frame.segment.src_ip, &target_ip))
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

/* Segments per timing check, per wire_inject_batch call and per raw sendmmsg. */
#define BURST 64
#define FRAME_MAX 128 /* the flood segment's frame has 54 bytes */

/* Every sender floods one segment shape: an RST to a closed port of the target, which the kernel drops
 * without answering, so the veth carries only what is measured. The harness crafts each segment anew
 * (seq advances); the raw sender, scapy and hping3 send a frame built once. */
static const struct segment flood_segment = { .src_ip = PEER_IP, .dst_ip = TARGET_IP, .src_port = 40000,
					      .dst_port = 9, .flags = TCP_FLAG_RST };

struct flood {
	struct wire *wire;
	struct segment segments[BURST];
	int raw_fd; /* a packet socket bound to the harness end */
	struct mmsghdr raw_messages[BURST];
	struct iovec raw_frame;
	uint8_t frame[FRAME_MAX];
};

static int burst_single(struct flood *f, char **error)
{
	int64_t sent;
	for (int i = 0; i < BURST; i++)
		if (wire_inject(f->wire, &f->segments[i], &sent, error) < 0)
			return -1;
	return 0;
}

static int burst_batch(struct flood *f, char **error)
{
	int64_t sent;
	return wire_inject_batch(f->wire, f->segments, BURST, &sent, error);
}

static int burst_raw(struct flood *f, char **error)
{
	for (int sent = 0; sent < BURST;) {
		int n = sendmmsg(f->raw_fd, f->raw_messages + sent, (unsigned)(BURST - sent), 0);
		if (n < 0)
			return error_set(error, "sendmmsg: %s", strerror(errno));
		sent += n;
	}
	return 0;
}

static const struct sender {
	const char *name;
	int (*burst)(struct flood *f, char **error);
} senders[] = {
	{ "single", burst_single }, /* wire_inject per segment: how run.c sends */
	{ "batch", burst_batch },
	{ "raw", burst_raw },
};
#define SENDER_COUNT (sizeof senders / sizeof senders[0])

/* Prints "NAME SEGMENTS_PER_SECOND" after sending for the given time. */
static int measure(const struct sender *sender, struct flood *f, double seconds)
{
	char *error = NULL;
	long frames = 0;
	int64_t start = wire_now_ns(), end = start + (int64_t)(seconds * 1e9), now;
	do {
		if (sender->burst(f, &error) < 0)
			return die(sender->name, error);
		frames += BURST;
		for (int i = 0; i < BURST; i++)
			f->segments[i].seq += BURST;
	} while ((now = wire_now_ns()) < end);
	printf("%s %.0f\n", sender->name, (double)frames * 1e9 / (double)(now - start));
	fflush(stdout);
	return 0;
}

static int open_raw_sender(struct flood *f, const struct sandbox *sandbox, int frame_len, char **error)
{
	int saved;
	if (netns_enter(sandbox->harness_netns_fd, &saved) < 0)
		return error_set(error, "entering the harness namespace: %s", strerror(errno));
	/* Protocol 0: a sender only, it receives nothing. */
	f->raw_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (netns_leave(saved) < 0)
		return error_set(error, "leaving the harness namespace: %s", strerror(errno));
	struct sockaddr_ll at = { .sll_family = AF_PACKET, .sll_ifindex = sandbox->harness_ifindex };
	if (f->raw_fd < 0 || bind(f->raw_fd, (struct sockaddr *)&at, sizeof at) < 0)
		return error_set(error, "packet socket on %s: %s", sandbox->harness_ifname, strerror(errno));
	f->raw_frame = (struct iovec){ .iov_base = f->frame, .iov_len = (size_t)frame_len };
	for (int i = 0; i < BURST; i++)
		f->raw_messages[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &f->raw_frame, .msg_iovlen = 1 } };
	return 0;
}

static void print_mac(const char *name, const uint8_t mac[6])
{
	printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* Holds one sandbox with its wire open, as a case has it, and tells the script how to reach it (the
 * harness namespace through this process's descriptor, the harness end, the target's MAC, the frame to
 * send). Then runs each sender named on a line of stdin for `seconds`, until stdin closes. */
static int serve_rates(double seconds)
{
	static struct flood flood;
	struct sandbox sandbox;
	char *error = NULL;
	struct wire *wire = open_bed(&sandbox, 0);
	if (!wire)
		return 1;
	flood.wire = wire;
	for (int i = 0; i < BURST; i++) {
		flood.segments[i] = flood_segment;
		flood.segments[i].seq = (uint32_t)i;
	}
	int frame_len = wire_build_frame(wire, &flood_segment, flood.frame, sizeof flood.frame, &error);
	if (frame_len < 0)
		return die("frame", error);
	if (open_raw_sender(&flood, &sandbox, frame_len, &error) < 0)
		return die("raw sender", error);

	printf("netns /proc/%ld/fd/%d\nifname %s\n", (long)getpid(), sandbox.harness_netns_fd, sandbox.harness_ifname);
	print_mac("target_mac", sandbox.target_mac);
	printf("frame ");
	for (int i = 0; i < frame_len; i++)
		printf("%02x", flood.frame[i]);
	printf("\nready\n");
	fflush(stdout);

	int rc = 0;
	char line[32];
	while (rc == 0 && fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		size_t i = 0;
		while (i < SENDER_COUNT && strcmp(senders[i].name, line) != 0)
			i++;
		if (i == SENDER_COUNT) {
			error_set(&error, "%s (single, batch or raw)", line);
			rc = die("unknown sender", error);
		} else {
			rc = measure(&senders[i], &flood, seconds);
		}
	}
	close(flood.raw_fd);
	wire_close(wire);
	wire_wait_released();
	sandbox_destroy(&sandbox);
	return rc;
}

#define STORM_PORT 8080

/* One storm of count lifecycles in a fresh sandbox (the previous storm's TIME_WAIT entries would
 * answer its SYNs); *elapsed_ns is storm_run's own first SYN to last final ACK. */
static int storm_round(uint32_t count, int64_t *elapsed_ns)
{
	struct sandbox sandbox;
	struct agent agent = { .pid = -1, .fd = -1 };
	char *error = NULL;
	struct wire *wire = open_bed(&sandbox, storm_ring_frames(count));
	if (!wire)
		return 1;
	const struct storm_plan plan = { .target_ip = TARGET_IP, .target_port = STORM_PORT, .peer_ip = PEER_IP,
					 .first_port = 10000, .count = count, .isn = 1000000, .listener = "lsn" };
	struct storm_result result = { 0 };
	int rc = -1;
	if (agent_spawn_local(sandbox.target_netns_fd, &agent, &error) == 0 &&
	    storm_listen(&agent, plan.listener, STORM_PORT, count, &error) == 0)
		rc = storm_run(wire, &agent, &plan, &result, &error);
	if (rc > 0)
		error_set(&error, "the stack broke an expectation:\n%s", result.mismatch);
	*elapsed_ns = result.elapsed_ns;
	agent_stop(&agent);
	wire_close(wire);
	sandbox_destroy(&sandbox);
	return rc != 0 ? die("storm", error) : 0;
}

/* Median and p90 over rounds, taken on the time per storm: the p90 rate is the one 90% of rounds
 * reached, as scripts/bench.sh takes it for segment rates. */
static int bench_storm(int rounds, int count_total, char **counts)
{
	int64_t *samples = calloc((size_t)rounds, sizeof *samples);
	if (!samples)
		return 1;
	int rc = 0;
	for (int c = 0; c < count_total && rc == 0; c++) {
		uint32_t count = (uint32_t)atol(counts[c]);
		for (int i = 0; i < rounds && rc == 0; i++)
			rc = storm_round(count, &samples[i]);
		if (rc)
			break;
		qsort(samples, (size_t)rounds, sizeof *samples, compare_int64);
		int64_t median = samples[rounds / 2], p90 = samples[rounds * 9 / 10];
		printf("storm of %5u connections   median %7.0f lifecycles/s (%6.1f ms)   p90 %7.0f lifecycles/s "
		       "(%6.1f ms)   (n=%d)\n",
		       count, count * 1e9 / (double)median, (double)median / 1e6, count * 1e9 / (double)p90,
		       (double)p90 / 1e6, rounds);
		fflush(stdout);
	}
	wire_wait_released();
	free(samples);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "storm") == 0) {
		int rounds = atoi(argv[2]);
		for (int i = 3; i < argc; i++)
			if (atol(argv[i]) < 1 || atol(argv[i]) > 50000)
				rounds = 0;
		if (rounds < 1 || rounds > 1000) {
			fprintf(stderr, "usage: %s storm ROUNDS COUNT... (1 <= ROUNDS <= 1000, 1 <= COUNT <= 50000)\n",
				argv[0]);
			return 2;
		}
		return bench_storm(rounds, argc - 3, argv + 3);
	}
	if (argc == 3 && strcmp(argv[1], "rates") == 0) {
		double seconds = atof(argv[2]);
		if (seconds <= 0 || seconds > 60) {
			fprintf(stderr, "usage: %s rates SECONDS (0 < SECONDS <= 60)\n", argv[0]);
			return 2;
		}
		return serve_rates(seconds);
	}
	int runs = argc == 2 ? atoi(argv[1]) : argc == 1 ? 200 : 0;
	if (runs < 10 || runs > 100000) {
		fprintf(stderr, "usage: %s [RUNS >= 10] | %s rates SECONDS | %s storm ROUNDS COUNT...\n", argv[0],
			argv[0], argv[0]);
		return 2;
	}
	int64_t *samples = calloc((size_t)runs * 5, sizeof *samples);
	if (!samples)
		return 1;
	int rc = bench_sandbox(NULL, "sandbox create+destroy", runs, samples) || bench_sandbox_on_link(runs, samples) ||
		 bench_case_setup(runs, samples, false) || bench_case_setup(runs, samples, true) ||
		 bench_case_setup_own_wire(runs, samples) ||
		 bench_inject_reply(runs * 5, samples);
	worker_link_release();
	wire_wait_released();
	free(samples);
	return rc;
}
