#!/usr/bin/env bash
# The main job in one command: install what building and running need (scripts/install-deps.sh without
# options: build-essential cmake pkg-config libnet1-dev libpcap-dev libmnl-dev libjansson-dev), build the harness
# without its tests, and run the whole catalogue against the running kernel, sandboxed in network
# namespaces created for each case. Extra arguments go to `run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DBUILD_TESTING=OFF
exec build/tcpharness run "${@:-cases/}"
