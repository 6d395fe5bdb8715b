#!/usr/bin/env bash
# Regenerates seeds/segment_decode/ (fuzz_segment_decode's committed seeds) from the pcaps of a real
# catalogue run: one frame per shape (flags, option kinds, payload or not), see extract_frames.py.
# Needs what `tcpharness run` needs (root or unshare -Urn). usage: capture_frames.sh HARNESS [CASES...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness=$1
shift
cases=("${@:-$here/../../cases/}")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$harness" run --captures "$scratch" --capture-format pcap "${cases[@]}" >/dev/null ||
	{ echo "capture_frames: the catalogue did not pass; its frames would not be the usual ones" >&2; exit 1; }
mapfile -t pcaps < <(find "$scratch" -name '*.pcap' | sort)
python3 "$here/extract_frames.py" "$here/seeds/segment_decode" "${pcaps[@]}"
