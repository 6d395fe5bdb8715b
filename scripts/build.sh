#!/usr/bin/env bash
# Configures and builds tcpharness (warnings are errors) with its tests into BUILD_DIR (default build/);
# arguments are cmake options that override these (scripts/quickstart.sh leaves the tests out).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPHARNESS_SANITIZE=OFF -DBUILD_TESTING=ON "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
