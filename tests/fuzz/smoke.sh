#!/usr/bin/env bash
# A bounded fuzzing run for CTest: RUNS executions (capped at SECONDS of wall time) starting from the
# seed directories, with new inputs kept in a scratch corpus so the seeds stay as built. A crash
# leaves its input under ARTIFACTS and fails the test; reproduce with `FUZZER ARTIFACTS/crash-...`.
# usage: smoke.sh FUZZER RUNS SECONDS ARTIFACTS SEED_DIR... [-- LIBFUZZER_FLAG...]
set -euo pipefail
fuzzer=$1 runs=$2 seconds=$3 artifacts=$4
shift 4
seeds=() flags=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do seeds+=("$1"); shift; done
[ $# -gt 0 ] && shift && flags=("$@")
for dir in "${seeds[@]}"; do
	[ -n "$(ls -A "$dir" 2>/dev/null)" ] || { echo "FAIL: seed directory $dir is empty or missing"; exit 1; }
done
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$artifacts"
"$fuzzer" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "${flags[@]}" "$corpus" "${seeds[@]}"
