/* test_counters.c - counters_parse on this kernel's /proc/net/{netstat,snmp} text and on malformed
 * text; counters_get by full and bare names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "observe.h"

/* Copied from /proc/net/netstat on the Debian 12 / 6.18 build machine. */
static const char netstat_text[] =
	"TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned "
	"OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive "
	"PAWSEstab BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked "
	"DelayedACKLost ListenOverflows ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery "
	"TCPSackRecovery TCPSACKReneging TCPSACKReorder TCPRenoReorder TCPTSReorder TCPFullUndo "
	"TCPPartialUndo TCPDSACKUndo TCPLossUndo TCPLostRetransmit TCPRenoFailures TCPSackFailures "
	"TCPLossFailures TCPFastRetrans TCPSlowStartRetrans TCPTimeouts TCPLossProbes "
	"TCPLossProbeRecovery TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce "
	"TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData TCPAbortOnClose "
	"TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger TCPAbortFailed TCPMemoryPressures "
	"TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld TCPDSACKIgnoredNoUndo "
	"TCPSpuriousRTOs TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted TCPSackMerged "
	"TCPSackShiftFallback TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop TCPDeferAcceptDrop "
	"IPReversePathFilter TCPTimeWaitOverflow TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail "
	"TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge TCPChallengeACK TCPSYNChallenge "
	"TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive TCPFastOpenPassiveFail "
	"TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole TCPSpuriousRtxHostQueues "
	"BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv TCPToZeroWindowAdv TCPWantZeroWindowAdv "
	"TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect TCPHystartTrainCwnd TCPHystartDelayDetect "
	"TCPHystartDelayCwnd TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq "
	"TCPACKSkippedFinWait2 TCPACKSkippedTimeWait TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive "
	"TCPMTUPFail TCPMTUPSuccess TCPDelivered TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop "
	"TCPRcvQDrop TCPWqueueTooBig TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash "
	"TCPDSACKRecvSegs TCPDSACKIgnoredDubious TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash "
	"TCPAORequired TCPAOBad TCPAOKeyNotFound TCPAOGood TCPAODroppedIcmps\n"
	"TcpExt: 0 0 0 0 0 0 0 0 0 0 11 0 0 0 0 0 0 0 0 0 0 0 0 0 10 16 7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
	"0 2 0 0 0 0 0 23 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 325 0 0 0 0 0 0 "
	"0 0 0 0 0 0 2 0 1 29 29 10 0 45 0 0 0 0 0 0 0 0 0 0 0 0 0 0 57 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 "
	"0 0\n"
	"IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets "
	"OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts "
	"InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps\n"
	"IpExt: 0 0 0 0 0 0 19313055 25984 0 0 0 0 0 520 0 0 0 0\n"
	"MPTcpExt: MPCapableSYNRX MPCapableSYNTX MPCapableSYNACKRX MPCapableACKRX MPCapableFallbackACK "
	"MPCapableFallbackSYNACK MPCapableSYNTXDrop MPCapableSYNTXDisabled MPCapableEndpAttempt "
	"MPFallbackTokenInit MPTCPRetrans MPJoinNoTokenFound MPJoinSynRx MPJoinSynBackupRx "
	"MPJoinSynAckRx MPJoinSynAckBackupRx MPJoinSynAckHMacFailure MPJoinAckRx MPJoinAckHMacFailure "
	"MPJoinRejected MPJoinSynTx MPJoinSynTxCreatSkErr MPJoinSynTxBindErr MPJoinSynTxConnectErr "
	"DSSNotMatching DSSCorruptionFallback DSSCorruptionReset InfiniteMapTx InfiniteMapRx "
	"DSSNoMatchTCP DataCsumErr OFOQueueTail OFOQueue OFOMerge NoDSSInWindow DuplicateData AddAddr "
	"AddAddrTx AddAddrTxDrop EchoAdd EchoAddTx EchoAddTxDrop PortAdd AddAddrDrop MPJoinPortSynRx "
	"MPJoinPortSynAckRx MPJoinPortAckRx MismatchPortSynRx MismatchPortAckRx RmAddr RmAddrDrop "
	"RmAddrTx RmAddrTxDrop RmSubflow MPPrioTx MPPrioRx MPFailTx MPFailRx MPFastcloseTx MPFastcloseRx "
	"MPRstTx MPRstRx SubflowStale SubflowRecover SndWndShared RcvWndShared RcvWndConflictUpdate "
	"RcvWndConflict MPCurrEstab Blackhole MPCapableDataFallback MD5SigFallback DssFallback "
	"SimultConnectFallback FallbackFailed WinProbe\n"
	"MPTcpExt: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
	"0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	;

/* Copied from /proc/net/snmp on the Debian 12 / 6.18 build machine. */
static const char snmp_text[] =
	"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos "
	"InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs "
	"ReasmFails FragOKs FragFails FragCreates OutTransmits\n"
	"Ip: 2 64 520 0 0 0 0 0 520 356 0 0 0 0 0 0 0 0 0 356\n"
	"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs "
	"InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs "
	"OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs "
	"OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks "
	"OutAddrMaskReps\n"
	"Icmp: 1 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	"IcmpMsg: InType3\n"
	"IcmpMsg: 1\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets "
	"CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
	"Tcp: 1 200 120000 -1 13 2 0 0 0 493 330 0 0 2 0\n"
	"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
	"IgnoredMulti MemErrors\n"
	"Udp: 26 0 0 27 0 0 0 0 0\n"
	"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
	"IgnoredMulti MemErrors\n"
	"UdpLite: 0 0 0 0 0 0 0 0 0\n"
	;

static int parse(const char *text, struct counter_snapshot *s, const char **error)
{
	return counters_parse(text, strlen(text), s, error);
}

/* name is in s, with the value want. */
static void assert_counter(const struct counter_snapshot *s, const char *name, int64_t want)
{
	int64_t value;
	if (!counters_get(s, name, &value))
		fail_msg("no counter %s", name);
	assert_int_equal(value, want);
}

static int setup_snapshot(void **state)
{
	struct counter_snapshot *s = calloc(1, sizeof *s);

	*state = s;
	return s ? 0 : -1;
}

static int teardown_snapshot(void **state)
{
	free(*state);
	return 0;
}

static void real_text_parses_into_prefixed_names(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;

	assert_int_equal(parse(netstat_text, s, &error), 0);
	assert_int_equal(s->count, 229);
	assert_string_equal(s->names[0], "TcpExt.SyncookiesSent");
	assert_int_equal(parse(snmp_text, s, &error), 0);
	assert_int_equal(s->count, 229 + 83);

	assert_counter(s, "TcpExt.TW", 11);
	assert_counter(s, "Tcp.ActiveOpens", 13);
	assert_counter(s, "Tcp.MaxConn", -1);
	assert_counter(s, "IpExt.InOctets", 19313055);
	assert_counter(s, "Ip.Forwarding", 2);
	assert_counter(s, "IcmpMsg.InType3", 1);
}

static void bare_names_prefer_tcpext_then_tcp(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;
	int64_t v;

	assert_int_equal(parse("Ip: Both Z\nIp: 30 31\n"
			       "Tcp: Both Z OnlyTcp\nTcp: 20 21 22\n"
			       "TcpExt: Both\nTcpExt: 10\n"
			       "Udp: Rest\nUdp: 40\n", s, &error), 0);
	assert_counter(s, "Both", 10);
	assert_counter(s, "Z", 21);
	assert_counter(s, "Rest", 40);
	assert_counter(s, "Ip.Both", 30);
	assert_false(counters_get(s, "Missing", &v));
	assert_false(counters_get(s, "TcpExt.Z", &v));
	/* "Tcp" must not match the "TcpExt" prefix. */
	assert_false(counters_get(s, "Tcp.", &v));
	assert_counter(s, "OnlyTcp", 22);
}

static void extremes_and_blank_lines(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;

	assert_int_equal(parse("\nA: Max Min Empty\nA: 9223372036854775807 -9223372036854775808 0"
			       "\nIcmpMsg:\nIcmpMsg:\n", s, &error), 0);
	assert_int_equal(s->count, 3);
	assert_counter(s, "A.Max", INT64_MAX);
	assert_counter(s, "A.Min", INT64_MIN);
}

static void length_bounds_the_text(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;
	const char text[] = "A: X\nA: 12345";

	/* Only "A: X\nA: 1" is inside len; nothing past it may be read. */
	assert_int_equal(counters_parse(text, 9, s, &error), 0);
	assert_counter(s, "A.X", 1);
}

/* /proc/net/snmp6: a name and a value a line, the group the name's part up to its '6'. */
static void snmp6_lines_parse_into_groups(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;
	static const char text[] = "Ip6InReceives                   \t7\nIcmp6OutType1                   \t2\n"
				   "UdpLite6InErrors                \t0\n\n";
	int64_t v;
	assert_int_equal(counters_parse_snmp6(text, strlen(text), s, &error), 0);
	assert_int_equal(s->count, 3);
	assert_counter(s, "Ip6.InReceives", 7);
	assert_counter(s, "Icmp6.OutType1", 2);
	assert_true(counters_get(s, "UdpLite6.InErrors", &v));

	int before = s->count;
	static const char *const bad[] = { "InReceives 1\n", "Ip6 1\n", "Ip6InReceives x\n", "Ip6InReceives\n" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		error = NULL;
		assert_int_equal(counters_parse_snmp6(bad[i], strlen(bad[i]), s, &error), -1);
		assert_non_null(error);
		assert_int_equal(s->count, before);
	}
}

static void expect_parse_error(struct counter_snapshot *s, const char *text, const char *message)
{
	const char *error = NULL;
	int before = s->count;

	assert_int_equal(parse(text, s, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, message);
	assert_int_equal(s->count, before);
}

/* gVisor's /proc/net/netstat names TcpExt's counters but gives no values: an empty group. */
static void header_alone_is_an_empty_group(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;
	s->count = 0;
	assert_int_equal(counters_parse("Tcp: InSegs OutSegs\nTcp: 5 7\nTcpExt: PAWSEstab\n", 47, s, &error), 0);
	assert_int_equal(s->count, 2);
	int64_t value;
	assert_false(counters_get(s, "TcpExt.PAWSEstab", &value));
	assert_counter(s, "Tcp.OutSegs", 7);
}

static void malformed_text_is_an_error(void **state)
{
	struct counter_snapshot *s = *state;

	expect_parse_error(s, "A: X Y\nA: 1\n", "header and value lines have different field counts");
	expect_parse_error(s, "A: X\nA: 1 2\n", "header and value lines have different field counts");
	expect_parse_error(s, "A: X\nB: 1\n", "value line does not carry its header's prefix");
	expect_parse_error(s, "A: X\nB: 1\n", "value line does not carry its header's prefix");
	expect_parse_error(s, "A: X\nAB: 1\n", "value line does not carry its header's prefix");
	expect_parse_error(s, "A: X\n1\n", "value line does not carry its header's prefix");
	expect_parse_error(s, "no colon here\n", "line without a \"Prefix:\" header");
	expect_parse_error(s, ": X\n: 1\n", "line without a \"Prefix:\" header");
	expect_parse_error(s, "A B: X\nA B: 1\n", "line without a \"Prefix:\" header");
	expect_parse_error(s, "A: X\nA: 1x\n", "counter value is not a decimal int64");
	expect_parse_error(s, "A: X\nA: -\n", "counter value is not a decimal int64");
	expect_parse_error(s, "A: X\nA: 9223372036854775808\n", "counter value is not a decimal int64");
	expect_parse_error(s, "A: X\nA: -9223372036854775809\n", "counter value is not a decimal int64");
	expect_parse_error(s, "A: X\nA: 18446744073709551626\n", "counter value is not a decimal int64");
	/* "TcpExt." and 41 letters make 48 characters: no room left in names[48] for the NUL. */
	expect_parse_error(s, "TcpExt: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmno\nTcpExt: 1\n",
			   "counter name too long");
}

static void longest_name_that_fits(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;

	assert_int_equal(parse("TcpExt: ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn\nTcpExt: 7\n", s, &error), 0);
	assert_string_equal(s->names[0], "TcpExt.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn");
	assert_counter(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn", 7);
}

static void a_failed_parse_leaves_earlier_counters(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;

	assert_int_equal(parse("A: X\nA: 5\n", s, &error), 0);
	expect_parse_error(s, "B: Y Z\nB: 1 2\nC: W\nC: bad\n", "counter value is not a decimal int64");
	assert_int_equal(s->count, 1);
	assert_counter(s, "A.X", 5);
}

static void more_than_counters_max_is_an_error(void **state)
{
	struct counter_snapshot *s = *state;
	const char *error = NULL;
	size_t size = 16 + COUNTERS_MAX * 12;
	char *text = malloc(size);
	size_t used;

	assert_non_null(text);
	/* One block of COUNTERS_MAX - 1 fills all but one slot; then two more do not fit. */
	used = (size_t)snprintf(text, size, "A:");
	for (int i = 0; i < COUNTERS_MAX - 1; i++)
		used += (size_t)snprintf(text + used, size - used, " C%d", i);
	used += (size_t)snprintf(text + used, size - used, "\nA:");
	for (int i = 0; i < COUNTERS_MAX - 1; i++)
		used += (size_t)snprintf(text + used, size - used, " 1");
	assert_true(used < size);
	assert_int_equal(counters_parse(text, used, s, &error), 0);
	assert_int_equal(s->count, COUNTERS_MAX - 1);
	free(text);

	expect_parse_error(s, "B: Y Z\nB: 1 2\n", "more counters than COUNTERS_MAX");
	assert_int_equal(parse("B: Y\nB: 1\n", s, &error), 0);
	assert_int_equal(s->count, COUNTERS_MAX);
	expect_parse_error(s, "C: Y\nC: 1\n", "more counters than COUNTERS_MAX");
}

static void invalid_snapshot_count_is_an_error(void **state)
{
	struct counter_snapshot *s = *state;

	s->count = COUNTERS_MAX + 1;
	expect_parse_error(s, "A: X\nA: 1\n", "counter snapshot has an invalid count");
	s->count = -1;
	expect_parse_error(s, "A: X\nA: 1\n", "counter snapshot has an invalid count");
}

int main(void)
{
#define WITH_SNAPSHOT(test) cmocka_unit_test_setup_teardown(test, setup_snapshot, teardown_snapshot)
	const struct CMUnitTest tests[] = {
		WITH_SNAPSHOT(real_text_parses_into_prefixed_names),
		WITH_SNAPSHOT(bare_names_prefer_tcpext_then_tcp),
		WITH_SNAPSHOT(extremes_and_blank_lines),
		WITH_SNAPSHOT(length_bounds_the_text),
		WITH_SNAPSHOT(header_alone_is_an_empty_group),
		WITH_SNAPSHOT(malformed_text_is_an_error),
		WITH_SNAPSHOT(longest_name_that_fits),
		WITH_SNAPSHOT(snmp6_lines_parse_into_groups),
		WITH_SNAPSHOT(a_failed_parse_leaves_earlier_counters),
		WITH_SNAPSHOT(more_than_counters_max_is_an_error),
		WITH_SNAPSHOT(invalid_snapshot_count_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
