#!/usr/bin/env bash
# Issue 19: an out-of-tree build (`cmake -S SOURCE -B elsewhere`, the CMake convention) runs every
# target: it finds gvisor-run-agent.sh and the static agent in its own directory. Builds the harness
# and the static agent outside the source tree and runs a gvisor case from an unrelated directory.
# usage: check_out_of_tree.sh SOURCE_DIR
set -euo pipefail
source=$1
[ "$(id -u)" -eq 0 ] || { echo "skipped: --target gvisor needs root"; exit 77; }
command -v runsc >/dev/null || { echo "skipped: runsc is not installed (scripts/install-deps.sh --target gvisor)"; exit 77; }
tmp=$(mktemp -d /tmp/tcpharness-oot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake -S "$source" -B "$tmp/build" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$tmp/build" -j "$(nproc)" --target tcpharness tcpharness-agent-static >/dev/null
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
"$tmp/build/tcpharness" run --family 4 --target gvisor "$source/cases/stacks/time_wait_syn.tc" | tee "$tmp/run.out"
grep -qxE '(1 passed, 0 failed, 0 skipped, 0 flaky|0 passed, 0 failed, 0 skipped, 1 flaky), 0 errors' "$tmp/run.out"
