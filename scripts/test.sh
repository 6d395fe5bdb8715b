#!/usr/bin/env bash
# The whole test suite in one command: install dependencies, build with warnings as errors, run the
# unit tests and the real-kernel tests (catalogue, wrong-expectation twins, modules) through ctest,
# first in an AddressSanitizer+UBSan build (any report fails it), then in the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=build-asan scripts/build.sh -DTCPHARNESS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure -j "$(nproc)" "$@")
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
