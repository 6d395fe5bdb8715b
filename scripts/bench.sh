#!/usr/bin/env bash
# Speed figures, as medians with p90: sandbox create+destroy, a case's setup+teardown, inject -> reply,
# crafted segments per second (the harness against a raw packet socket, scapy and hping3, all on one
# sandbox's veth), connection lifecycles per second in storm mode, the whole-process time of a few
# cases in ipv4 and in ipv6 side by side, the wall time of the catalogue in every family, explore's
# table, and (with PACKETDRILL and PACKETDRILL_SUITE) a packetdrill suite's scripts under tcpharness
# against packetdrill one by one. Needs root, python3-scapy and hping3; builds first into BUILD_DIR
# (default build/). RUNS (default 200); ROUNDS of the segment rate comparison (default 7), each sender
# flooding for 1 s per round, and of each storm size.
# `scripts/bench.sh explore [ROUNDS]`: only explore's table (below).
# `scripts/bench.sh families`: only the ipv4/ipv6 figures (a few cases' whole-process times, the lab
# hosts' catalogue wall times).
# `scripts/bench.sh vm [ROUNDS]`: only the vm target's catalogue wall time, -j 1 against -j 2 (one VM
# per worker), ROUNDS (default 3) interleaved, on the image in TCPHARNESS_VM_IMAGE (default build/vm).
# `scripts/bench.sh overhead [RUNS]`: only the harness's own cost (issue 18): a case's setup+teardown,
# the whole process for one short case, and the catalogue's wall time against its timer chains.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
load() { cut -d' ' -f1-3 /proc/loadavg; }

# The harness's own cost per case (issue 18), RUNS samples each, with the load average next to each figure.
overhead() {
	local runs=$1 scratch
	# Its own scratch directory: other runs of this script on the machine use /tmp/tcpharness-bench.
	scratch=$(mktemp -d /tmp/tcpharness-bench-overhead.XXXXXX)
	echo "== the harness's own cost (load average before: $(load))"
	"$build/tests/bench_core" "$runs" | grep -E 'sandbox|setup'
	echo "   (target: case setup+teardown <= 2 ms; load average after: $(load))"
	# One short case per process, in one family: exec, sandbox, the case's segments, teardown, exit.
	# lost_final_ack with every step at +0 (its one +0.2 wait made +0), the variant that keeps TIME_WAIT.
	local zero=$scratch/zero
	mkdir -p "$zero/time_wait"
	sed 's/^+0\.2 /+0   /' cases/time_wait/lost_final_ack.tc >"$zero/time_wait/lost_final_ack.tc"
	local what
	for what in "cases/handshake/syn_closed_port.tc" "$zero/time_wait/lost_final_ack.tc --variant tw-kept"; do
		local times=() start median p90
		for _ in $(seq "$runs"); do
			start=$(date +%s%N)
			# shellcheck disable=SC2086 # what holds the file and its options
			"$build/tcpharness" run --family 4 --captures "$scratch/captures" $what >/dev/null ||
				{ echo "bench: $what did not pass" >&2; exit 1; }
			times+=($(( ($(date +%s%N) - start) / 1000 )))
		done
		read -r median p90 < <(printf '%s\n' "${times[@]}" | sort -n |
			awk '{ v[NR - 1] = $1 } END { print v[int(NR / 2)] / 1000, v[int(NR * 9 / 10)] / 1000 }')
		printf 'whole process, %-48s median %6.1f ms   p90 %6.1f ms   (n=%d; target <= 10 ms; load %s)\n' \
			"${what#"$zero/"}" "$median" "$p90" "$runs" "$(load)"
		rm -rf "$scratch/captures"
	done
	# Each case's own time at -j 1 is its timer chain (its declared waits and the stack's timers) plus its
	# share of the harness's cost; the longest bounds -j 16, the sum over the workers bounds the default.
	local jobs out=$scratch/out durations sum longest
	for jobs in 1 "$(nproc)" 16; do
		start=$(date +%s%N)
		"$build/tcpharness" run -j "$jobs" --captures "$scratch/captures" cases/ >"$out" || true
		wall=$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)
		rm -rf "$scratch/captures"
		if [ "$jobs" = 1 ]; then
			durations=$(grep -oE '\(([0-9]+) ms\)$' "$out" | tr -dc '0-9\n')
			sum=$(echo "($(paste -sd+ <<<"$durations")) / 1000" | bc -l)
			longest=$(echo "$(sort -n <<<"$durations" | tail -n 1) / 1000" | bc -l)
			printf 'catalogue -j 1  wall %6.2f s; its cases'"'"' chains: sum %.2f s, longest %.2f s   (%s; load %s)\n' \
				"$wall" "$sum" "$longest" "$(tail -n 1 "$out")" "$(load)"
		elif [ "$jobs" = 16 ]; then
			printf 'catalogue -j 16 wall %6.2f s = %.2f x the longest chain (target <= 1.10)   (%s; load %s)\n' \
				"$wall" "$(echo "$wall / $longest" | bc -l)" "$(tail -n 1 "$out")" "$(load)"
		else
			printf 'catalogue -j %-2s wall %6.2f s = %.2f x sum of chains / %s (target <= 1.10)   (%s; load %s)\n' \
				"$jobs" "$wall" "$(echo "$wall / ($sum / $jobs)" | bc -l)" "$jobs" "$(tail -n 1 "$out")" "$(load)"
		fi
	done
	rm -rf "$scratch"
}

if [ "${1:-}" = overhead ]; then
	scripts/build.sh >/dev/null
	overhead "${2:-20}"
	exit 0
fi
# explore's whole state x event table at -j 16 (issue 20: under 30 s), with the load average before it.
# CPU time is the figure that survives other load on the machine: wall time on an idle 2-core machine is
# about CPU / 2, since every cell's own waits (a 100 ms window, a 250 ms handshake) overlap at -j 16.
bench_explore() {
	echo "== explore: the whole state x event table at -j 16 (issue 20: under 30 s)"
	# A directory of its own: another bench.sh running beside this one must not mix its files in.
	local load start wall user sys dir
	dir=$(mktemp -d /tmp/tcpharness-bench-explore.XXXXXX)
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	start=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$dir/cpu" \
		"$build/tcpharness" explore -j 16 --captures "$dir/captures" >/dev/null 2>"$dir/out"
	wall=$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)
	read -r user sys <"$dir/cpu"
	printf 'explore -j 16 wall time %6.2f s, CPU %.2f s user + %.2f s sys, load average before %s   (%s)\n' "$wall" \
		"$user" "$sys" "$load" "$(tail -n 1 "$dir/out")"
	rm -rf "$dir"
}
# `scripts/bench.sh explore [ROUNDS]`: only explore's table, ROUNDS times (default 3).
if [ "${1:-}" = explore ]; then
	scripts/build.sh >/dev/null
	for _ in $(seq "${2:-3}"); do
		bench_explore
	done
	exit 0
fi
# The whole-process time of a few cases, 20 runs per family, ipv4 and ipv6 side by side (issue 15:
# unchanged within noise), with the load average before and after.
families_side_by_side() {
	echo "== whole process, each first case file, 20 runs per family, ipv4 and ipv6 side by side (load $(cut -d' ' -f1-3 /proc/loadavg))"
	# One family per process, so the figure is one case's setup, run and teardown in that family.
	printf '%-40s %-28s %s\n' case ipv4 ipv6
	for case in cases/handshake/accept.tc cases/handshake/syn_closed_port.tc cases/handshake/ack_to_listener.tc \
		cases/time_wait/lost_final_ack.tc; do
		line=$(printf '%-40s' "$case")
		for family in 4 6; do
			times=()
			for _ in $(seq 20); do
				start=$(date +%s%N)
				"$build/tcpharness" run --family "$family" --captures /tmp/tcpharness-bench "$case" >/dev/null
				times+=($(( ($(date +%s%N) - start) / 1000 )))
			done
			sorted=($(printf '%s\n' "${times[@]}" | sort -n))
			line+=$(printf ' median %7.1f p90 %7.1f ms' "$(echo "${sorted[10]} / 1000" | bc -l)" \
				"$(echo "${sorted[18]} / 1000" | bc -l)")
		done
		echo "$line"
	done
	echo "(load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
	rm -rf /tmp/tcpharness-bench
	echo "== one namespace lab host against two, the catalogue in ipv4 and in ipv6 (issues 22 and 15)"
	for family in 4 6; do
		scripts/lab-hosts-bench.sh "$build/tcpharness" "$build/tcpharness-agent" cases/ "$family" || true
	done
}
# `scripts/bench.sh families`: only that.
if [ "${1:-}" = families ]; then
	scripts/build.sh >/dev/null
	families_side_by_side
	exit 0
fi
if [ "${1:-}" = vm ]; then
	vm_image=${TCPHARNESS_VM_IMAGE:-build/vm}
	[ -f "$vm_image/stamp" ] || { echo "bench: no VM image in $vm_image (scripts/vm-image.sh)" >&2; exit 2; }
	scripts/build.sh >/dev/null
	echo "== vm target: the catalogue, -j 1 against -j 2, ${2:-3} rounds interleaved (boots included)"
	declare -A walls=()
	# Files of this run's own: another user's bench on the machine would write and remove fixed names.
	bench_dir=$(mktemp -d /tmp/tcpharness-bench-vm-XXXXXX)
	trap 'rm -rf "$bench_dir"' EXIT
	for _ in $(seq "${2:-3}"); do
		for jobs in 1 2; do
			start=$(date +%s%N)
			"$build/tcpharness" run -j "$jobs" --family 4 --target vm --vm-image "$vm_image" --captures "$bench_dir/captures" \
				cases/ >"$bench_dir/out" 2>&1 || true
			wall=$(echo "scale=1; ($(date +%s%N) - $start) / 1000000000" | bc)
			walls[$jobs]+=" $wall"
			printf 'vm -j %s wall time %6.1f s   (%s; load %s)\n' "$jobs" "$wall" "$(tail -n 1 "$bench_dir/out")" \
				"$(cut -d' ' -f1 /proc/loadavg)"
			# What did not pass, with its message: a timing figure means little without it.
			awk '/^(FAIL|ERROR|FLAKY) / { shown = 1; print "    " $0; next } /^    / && shown { print "    " $0; next }
				{ shown = 0 }' "$bench_dir/out"
			rm -rf "$bench_dir/captures"
		done
	done
	for jobs in 1 2; do
		read -r -a rounds_of_jobs <<<"${walls[$jobs]}"
		mapfile -t sorted < <(printf '%s\n' "${rounds_of_jobs[@]}" | sort -n)
		echo "vm -j $jobs median ${sorted[$((${#sorted[@]} / 2))]} s"
	done
	exit 0
fi
runs=${1:-200}
rounds=${ROUNDS:-7}
# Debian's interpreter, which python3-scapy installs into (a pyenv python3 on PATH lacks it).
scapy_python=/usr/bin/python3
if ! command -v hping3 >/dev/null || ! "$scapy_python" -c 'import scapy' 2>/dev/null; then
	echo "bench: needs hping3 and python3-scapy (scripts/install-deps.sh --test)" >&2
	exit 2
fi
scripts/build.sh >/dev/null
echo "== core timings ($build/tests/bench_core $runs)"
"$build/tests/bench_core" "$runs"

echo "== crafted segments per second ($rounds rounds of 1 s per sender, one veth, senders interleaved)"
# bench_core holds the sandbox with the harness's wire open, as a case has it, and runs its own senders
# on request; scapy and hping3 run inside its harness namespace and send only on the harness end.
coproc RATES { exec "$build/tests/bench_core" rates 1; }
# Bash drops RATES once the coprocess is gone; the copies stay valid for reporting its failure.
rates_pid=$RATES_PID rates_out=${RATES[0]} rates_in=${RATES[1]}
declare -A bed
while read -r key value <&"$rates_out" && [ "$key" != ready ]; do
	bed[$key]=$value
done
[ "${key:-}" = ready ] || { echo "bench: bench_core rates did not start" >&2; exit 1; }
tool_pid=
# SIGTERM: a background job of a script ignores SIGINT.
stop_tool() {
	if [ -n "$tool_pid" ]; then
		kill "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" 2>/dev/null || true
		tool_pid=
	fi
}
trap stop_tool EXIT
trap 'exit 130' INT TERM
in_harness() { nsenter --net="${bed[netns]}" "$@"; }
# /proc/net/dev shows the reader's namespace (/sys/class/net would show the host's).
tx_packets() { in_harness sed -n "s/^ *${bed[ifname]}://p" /proc/net/dev | awk '{ print $10 }'; }

# hping3 sends through the kernel's routing, which the harness end does not have: an on-link route and a
# permanent neighbour for the target, in this benchmark's own sandbox only, so no ARP is ever needed.
in_harness ip route add 192.0.2.0/24 dev "${bed[ifname]}"
in_harness ip neigh replace 192.0.2.1 lladdr "${bed[target_mac]}" dev "${bed[ifname]}" nud permanent

# Starts a flooding command in the harness namespace and sets rate to its frames per second over 1 s,
# counted by the harness end's tx_packets once the frames flow (scapy takes a second to import). Not in
# a $(...) subshell: there the EXIT trap would not stop the command. nsenter itself, not in_harness, goes
# in the background: it becomes the command (exec), where a function would leave a subshell as its parent.
external_rate() {
	nsenter --net="${bed[netns]}" "$@" >/dev/null 2>&1 &
	tool_pid=$!
	local before t0 c0 t1 c1
	before=$(tx_packets)
	for _ in $(seq 200); do
		kill -0 "$tool_pid" 2>/dev/null || { echo "bench: $1 exited" >&2; exit 1; }
		[ "$(tx_packets)" != "$before" ] && break
		sleep 0.05
	done
	sleep 0.2
	t0=$(date +%s%N); c0=$(tx_packets)
	sleep 1
	t1=$(date +%s%N); c1=$(tx_packets)
	stop_tool
	rate=$(((c1 - c0) * 1000000000 / (t1 - t0)))
}

harness_rate() {
	local name
	echo "$1" >&"$rates_in"
	if ! read -r name rate <&"$rates_out" || [ "$name" != "$1" ]; then
		echo "bench: bench_core rates $1 failed" >&2
		exit 1
	fi
}

# The frame bench_core built (an RST to the target's closed port 9, which it drops without answering).
scapy_flood='import sys
from scapy.all import Ether, sendp
sendp(Ether(bytes.fromhex(sys.argv[2])), iface=sys.argv[1], loop=1, verbose=False)'
declare -A rates
senders=(single batch raw scapy hping3)
for _ in $(seq "$rounds"); do
	for s in single batch raw; do
		harness_rate $s
		rates[$s]+=$rate$'\n'
	done
	external_rate "$scapy_python" -c "$scapy_flood" "${bed[ifname]}" "${bed[frame]}"
	rates[scapy]+=$rate$'\n'
	external_rate hping3 -I "${bed[ifname]}" --flood -R -p 9 -s 40000 -k -a 192.0.2.10 192.0.2.1
	rates[hping3]+=$rate$'\n'
done
exec {rates_in}>&-
wait "$rates_pid"

# Median and p90 as bench_core takes them, on the time per segment: the p90 rate is the one 90% of
# rounds reached.
declare -A median
for s in "${senders[@]}"; do
	read -r "median[$s]" p90 < <(printf '%s' "${rates[$s]}" | sort -rn |
		awk '{ v[NR - 1] = $1 } END { print v[int(NR / 2)], v[int(NR * 9 / 10)] }')
	case $s in
	single) what="harness, wire_inject per segment" ;;
	batch) what="harness, wire_inject_batch" ;;
	raw) what="raw AF_PACKET sendmmsg, prebuilt" ;;
	scapy) what="scapy sendp, prebuilt" ;;
	hping3) what="hping3 --flood" ;;
	esac
	printf '%-34s median %9d/s   p90 %9d/s   (n=%d)\n' "$what" "${median[$s]}" "$p90" "$rounds"
done
ratio() { echo "scale=2; ${median[$1]} / ${median[$2]}" | bc; }
for h in single batch; do
	printf 'ratios of medians, %-6s  /scapy %6.1f   /hping3 %5.2f   /raw %5.2f\n' "$h" \
		"$(ratio "$h" scapy)" "$(ratio "$h" hping3)" "$(ratio "$h" raw)"
done
verdict() { [ "$(echo "$1" | bc)" = 1 ] && echo met || echo "NOT met"; }
echo "targets (issue 8), batch path: >= 50x scapy: $(verdict "${median[batch]} >= 50 * ${median[scapy]}")," \
	">= 80% of raw: $(verdict "${median[batch]} >= 0.8 * ${median[raw]}")"

echo "== connection lifecycles per second in storm mode ($rounds rounds per size, a fresh sandbox each)"
# Each lifecycle: our SYN, the SYN-ACK, our ACK, the agent's accept and close, the stack's FIN, our
# FIN-ACK, its final ACK, every segment from the stack checked; timed from the first SYN to the last ACK.
"$build/tests/bench_core" storm "$rounds" 2000 10000

families_side_by_side
echo "== whole catalogue: -j 1 against -j $(nproc) and -j 16"
# Each case's own time is mostly its kernel timers (keepalive, retransmissions, declared waits); the
# longest one bounds what parallel runs can reach, and the sum is what a serial run must pay.
for jobs in 1 "$(nproc)" 16; do
	start=$(date +%s%N)
	"$build/tcpharness" run -j "$jobs" --captures /tmp/tcpharness-bench cases/ >/tmp/tcpharness-bench.out
	wall=$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)
	printf 'catalogue -j %-2s wall time %6.2f s   (%s)\n' "$jobs" "$wall" "$(tail -n 1 /tmp/tcpharness-bench.out)"
	if [ "$jobs" = 1 ]; then
		durations=$(grep -oE '\(([0-9]+) ms\)$' /tmp/tcpharness-bench.out | tr -dc '0-9\n')
		printf 'sum of the cases'"'"' own times %6.2f s, longest case %.2f s\n' \
			"$(echo "($(paste -sd+ <<<"$durations")) / 1000" | bc -l)" \
			"$(echo "$(sort -n <<<"$durations" | tail -n 1) / 1000" | bc -l)"
	fi
	rm -rf /tmp/tcpharness-bench
done
rm -f /tmp/tcpharness-bench.out

echo "== the catalogue as 4 shards, one process after another (issue 22: wall times within 25%)"
# Each shard at the default -j, as a CI runner of this size would run it; the wall times come from the
# shards' JSON reports, the expected durations (what --shard balances) from their runs.
for k in 1 2 3 4; do
	"$build/tcpharness" run --shard "$k/4" --captures /tmp/tcpharness-bench --report json="/tmp/tcpharness-bench-shard$k.json" \
		cases/ >/dev/null 2>&1 || true
done
python3 - /tmp/tcpharness-bench-shard{1,2,3,4}.json <<'PY'
import json, sys
shards = [json.load(open(path)) for path in sys.argv[1:]]
wall = [s["wall_ns"] / 1e9 for s in shards]
expected = [sum(r["expected_ns"] for r in s["runs"]) / 1e9 for s in shards]
for s, w, e in zip(shards, wall, expected):
    print(f"shard {s['shard']['index']}/4: {len(s['runs']):3d} runs, expected {e:6.2f} s, wall time {w:6.2f} s")
print(f"slowest / fastest shard: wall {max(wall) / min(wall):.2f}, expected {max(expected) / min(expected):.3f}")
PY
"$build/tcpharness" merge /tmp/tcpharness-bench-shard{1,2,3,4}.json 2>&1 >/dev/null | tail -n 1
rm -rf /tmp/tcpharness-bench /tmp/tcpharness-bench-shard?.json

overhead 20

bench_explore

# packetdrill suites (docs/packetdrill.md): tcpharness -j against packetdrill one script after another,
# over the scripts tcpharness runs. PACKETDRILL names a packetdrill you built; PACKETDRILL_SUITE the
# suite (google/packetdrill's gtests/net/tcp, the kernel's selftests/net/packetdrill).
echo "== packetdrill scripts"
if [ -x "${PACKETDRILL:-}" ] && [ -d "${PACKETDRILL_SUITE:-}" ]; then
	scripts/packetdrill-compare.sh "$build/tcpharness" "$PACKETDRILL" "$PACKETDRILL_SUITE" | grep '^wall time' || true
else
	echo "skipped: set PACKETDRILL (a packetdrill binary) and PACKETDRILL_SUITE (a directory of .pkt scripts)"
fi
