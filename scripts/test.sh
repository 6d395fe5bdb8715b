#!/usr/bin/env bash
# The whole test suite in one command: install dependencies, build with warnings as errors, run the
# unit tests and the real-kernel tests (catalogue, wrong-expectation twins, modules) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
