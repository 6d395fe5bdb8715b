/* test_worker_link.c - a worker's link, wire and agent serving one case after another (needs root): each
 * case reads only its own frames, on a fresh target namespace, with IP IDs from 0 as on a new wire, and
 * its agent is the worker's one process, in that case's namespace and without the earlier case's sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "agent.h"
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

/* The inode of the namespace pid runs in equals that of the case's own descriptor. */
static void assert_in_namespace(pid_t pid, int netns_fd)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	struct stat agent_ns, case_ns;
	assert_int_equal(stat(path, &agent_ns), 0);
	assert_int_equal(fstat(netns_fd, &case_ns), 0);
	assert_true(agent_ns.st_ino == case_ns.st_ino && agent_ns.st_dev == case_ns.st_dev);
}

static int open_descriptors(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(path);
	assert_non_null(dir);
	int count = 0;
	for (struct dirent *entry; (entry = readdir(dir));)
		count += entry->d_name[0] != '.';
	closedir(dir);
	return count;
}

static void agent_listens(struct agent *agent, uint16_t port)
{
	struct app_call call = { .op = APP_LISTEN, .port = port, .timeout_ns = 2000000000 };
	snprintf(call.handle, sizeof call.handle, "srv");
	struct agent_reply reply;
	char *error = NULL;
	if (agent_call(agent, &call, &reply, &error) < 0)
		fail_msg("agent_call: %s", error);
	assert_int_equal(reply.err, 0);
}

/* One fork for the worker: the second case's agent is the same process, moved into that case's
 * namespace, with the first case's listening socket closed; an agent left out of step is forked anew. */
static void test_agent_follows_each_case(void **state)
{
	(void)state;
	char *error = NULL;
	struct worker_link *wl = worker_link_get(&error);
	if (!wl)
		fail_msg("worker_link_get: %s", error);

	struct sandbox first;
	begin_case(wl, &first);
	struct agent *agent = worker_link_agent(wl, first.target_netns_fd, &error);
	if (!agent)
		fail_msg("worker_link_agent: %s", error);
	pid_t pid = agent->pid;
	assert_in_namespace(pid, first.target_netns_fd);
	int idle = open_descriptors(pid);
	agent_listens(agent, 8080);
	assert_int_equal(open_descriptors(pid), idle + 1);
	sandbox_destroy(&first);

	struct sandbox second;
	begin_case(wl, &second);
	assert_ptr_equal(worker_link_agent(wl, second.target_netns_fd, &error), agent);
	assert_int_equal(agent->pid, pid);
	assert_in_namespace(pid, second.target_netns_fd);
	assert_int_equal(open_descriptors(pid), idle);
	/* The port is free in the fresh namespace. */
	agent_listens(agent, 8080);
	sandbox_destroy(&second);

	/* A reply never read: target_case_end stops such an agent (as here), and the next case forks one. */
	struct app_call call = { .op = APP_LISTEN, .port = 8081, .timeout_ns = 2000000000 };
	snprintf(call.handle, sizeof call.handle, "late");
	struct agent_pending pending;
	assert_int_equal(agent_call_start(agent, &call, &pending, &error), 0);
	assert_true(agent->awaiting);
	agent_stop(agent);
	struct sandbox third;
	begin_case(wl, &third);
	assert_ptr_equal(worker_link_agent(wl, third.target_netns_fd, &error), agent);
	assert_int_not_equal(agent->pid, pid);
	assert_false(agent->awaiting);
	assert_in_namespace(agent->pid, third.target_netns_fd);
	sandbox_destroy(&third);

	pid = agent->pid;
	worker_link_release();
	assert_int_equal(kill(pid, 0), -1); /* stopped and reaped with its worker */
	wire_wait_released();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_case_reads_only_its_own_frames),
		cmocka_unit_test(test_agent_follows_each_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
