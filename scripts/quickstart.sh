#!/usr/bin/env bash
# The main job in one command: install dependencies, build, and run the whole catalogue against the
# running kernel, sandboxed in network namespaces created for each case. Extra arguments go to `run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/tcpharness run "${@:-cases/}"
