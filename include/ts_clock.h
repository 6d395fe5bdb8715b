/* ts_clock.h - how fast the running kernel's TCP timestamp clock ticks: 1000 Hz since Linux 4.13
 * (tcp_time_stamp_raw, in ms), HZ before (jiffies), which `expect clock` needs to compare TSvals. */
#ifndef TCPHARNESS_TS_CLOCK_H
#define TCPHARNESS_TS_CLOCK_H

#include <stdint.h>

/* What the TS clock ticks at when nothing says otherwise: every kernel since 4.13, gVisor. */
#define TS_CLOCK_DEFAULT_HZ 1000

/* The running kernel's rate: 1000 when uname says Linux 4.13 or later; otherwise measured by reading
 * TCP_TIMESTAMP (getsockopt, any TCP socket) twice, 200 ms apart, rounded to a kernel HZ (100, 250,
 * 300, 1000) when within 5% of one. Returns 0 with *hz, or an errno (ENOPROTOOPT: no TCP_TIMESTAMP). */
int ts_clock_hz(int *hz);

/* The rate of a clock that advanced ticks in ns nanoseconds, rounded to a kernel HZ (100, 250, 300,
 * 1000) when within 5% of one; 0 when it did not advance. */
int ts_clock_rate(uint32_t ticks, int64_t ns);

#endif
