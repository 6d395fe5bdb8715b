#!/usr/bin/env bash
# Speed figures, as medians with p90: sandbox create+destroy, a case's setup+teardown, inject -> reply,
# and the whole-process wall time of the catalogue's cases. Needs root; builds first. RUNS (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
scripts/build.sh >/dev/null
echo "== core timings (build/tests/bench_core $runs)"
build/tests/bench_core "$runs"

echo "== whole process, each first case file, 20 runs"
for case in cases/handshake/accept.tc cases/handshake/syn_closed_port.tc cases/handshake/ack_to_listener.tc \
	cases/time_wait/lost_final_ack.tc; do
	times=()
	for _ in $(seq 20); do
		start=$(date +%s%N)
		build/tcpharness run --captures /tmp/tcpharness-bench "$case" >/dev/null
		times+=($(( ($(date +%s%N) - start) / 1000 )))
	done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	printf '%-40s median %8.1f ms   p90 %8.1f ms\n' "$case" \
		"$(echo "${sorted[10]} / 1000" | bc -l)" "$(echo "${sorted[18]} / 1000" | bc -l)"
done
rm -rf /tmp/tcpharness-bench

echo "== whole catalogue, one process"
start=$(date +%s%N)
build/tcpharness run --captures /tmp/tcpharness-bench cases/ | tail -n 1
printf 'catalogue wall time %.2f s\n' "$(echo "($(date +%s%N) - $start) / 1000000000" | bc -l)"
rm -rf /tmp/tcpharness-bench
