/* ts_clock.c - see ts_clock.h. */
#include "ts_clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_SPAN_NS 200000000L

static int read_ts(int fd, uint32_t *ts, struct timespec *at)
{
	socklen_t len = sizeof *ts;
	if (getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, ts, &len) < 0)
		return errno;
	clock_gettime(CLOCK_MONOTONIC, at);
	return 0;
}

/* Since 4.13 ("tcp: switch TCP TS option (RFC 7323) to 1ms clock") the clock is
 * tcp_time_stamp_raw(), in ms, whatever HZ is. */
static bool ms_clock_kernel(void)
{
	struct utsname u;
	int major, minor;
	return uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	       (major > 4 || (major == 4 && minor >= 13));
}

int ts_clock_hz(int *hz)
{
	if (ms_clock_kernel()) {
		*hz = 1000;
		return 0;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	uint32_t ts0, ts1;
	struct timespec t0, t1, span = { 0, SAMPLE_SPAN_NS };
	int err = read_ts(fd, &ts0, &t0);
	if (!err) {
		while (nanosleep(&span, &span) < 0 && errno == EINTR)
			;
		err = read_ts(fd, &ts1, &t1);
	}
	close(fd);
	if (err)
		return err;
	*hz = ts_clock_rate(ts1 - ts0, (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec));
	return *hz > 0 ? 0 : EIO;
}

int ts_clock_rate(uint32_t ticks, int64_t ns)
{
	int64_t measured = ns > 0 ? (int64_t)ticks * 1000000000 / ns : 0;
	static const int kernel_hz[] = { 100, 250, 300, 1000 };
	for (size_t i = 0; i < sizeof kernel_hz / sizeof kernel_hz[0]; i++)
		if (measured * 20 >= kernel_hz[i] * 19 && measured * 20 <= kernel_hz[i] * 21)
			return kernel_hz[i];
	return measured > INT32_MAX ? INT32_MAX : (int)measured;
}
