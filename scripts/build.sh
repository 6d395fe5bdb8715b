#!/usr/bin/env bash
# Configures and builds tcpharness (warnings are errors) into BUILD_DIR (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPHARNESS_SANITIZE=OFF "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
