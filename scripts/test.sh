#!/usr/bin/env bash
# The whole test suite in one command: install every dependency (the test tools and every target's,
# scripts/install-deps.sh --test), build with warnings as errors and with the tests, run the
# unit tests and the real-kernel tests (catalogue, wrong-expectation twins, modules) through ctest,
# first in an AddressSanitizer+UBSan build (any report fails it), then the fuzzers' smoke runs in a
# clang build, then everything in the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
BUILD_DIR=build-asan scripts/build.sh -DTCPHARNESS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure -j "$(nproc)" "$@")
# A bounded libFuzzer run of the parser and the frame decoder (tests/fuzz); only the fuzz tests run
# in this clang build, the rest ran above and run below.
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPHARNESS_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_case_parser fuzz_segment_decode
(cd build-fuzz && ctest --output-on-failure --no-tests=error -j "$(nproc)" -L fuzz)
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" "$@"
