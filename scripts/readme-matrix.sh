#!/usr/bin/env bash
# Regenerates one of README.md's outcome blocks from the running kernel, or with --check only compares
# it (exit 1 and a diff when the README says otherwise). Without --kernels: the catalogue's tables in
# every address family (`tcpharness matrix --markdown cases/`); with --kernels VMDIR: the two-kernel
# table in every family (`matrix --markdown --targets local,vm --vm-image VMDIR cases/`, VMDIR from
# scripts/vm-image.sh).
# The README names each kernel by its major.minor and the comparison ignores the rest of the release
# (scripts/doc-block.sh): another build of 6.18 or another Debian 6.1 revision keeps the table true.
# usage: scripts/readme-matrix.sh [--check] [--kernels VMDIR] [HARNESS]   (HARNESS default: build/tcpharness)
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
vm_image=
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=true; shift ;;
	--kernels) [ $# -ge 2 ] || { echo "readme-matrix: --kernels needs VMDIR" >&2; exit 2; }; vm_image=$2; shift 2 ;;
	-*) echo "usage: scripts/readme-matrix.sh [--check] [--kernels VMDIR] [HARNESS]" >&2; exit 2 ;;
	*) break ;;
	esac
done
harness=${1:-build/tcpharness}
if [ -n "$vm_image" ]; then
	block=kernels
	# A TCG guest starved of the host's CPU fires its timers late: the harness measures that (the
	# agent's clock watch, the vCPU thread's run-queue wait) and makes such a line an ERROR, which is
	# retried like any other; a FAIL stands.
	command=(matrix --markdown --targets local,vm --vm-image "$vm_image")
else
	block=matrix
	command=(matrix --markdown)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
"$harness" "${command[@]}" --captures "$work/captures" cases/ >"$work/tables" 2>"$work/console" || status=$?
if [ "$status" -ne 0 ]; then
	cat "$work/console" >&2
	echo "readme-matrix: the catalogue did not pass (exit $status); the README keeps its tables" >&2
	exit 1
fi
# What the kernel does, not how punctual the harness was: a pass on a retry (FLAKY, `~` after its cell
# and a note under the table) is a pass here. The note goes with the blank line before it.
awk -f "$(dirname "$0")/matrix-steady.awk" \
	"$work/tables" >"$work/tables.steady"
mv "$work/tables.steady" "$work/tables"
if $check; then
	scripts/doc-block.sh check README.md "$block" scripts/readme-matrix.sh "$work/tables" || {
		echo "readme-matrix: run scripts/readme-matrix.sh${vm_image:+ --kernels $vm_image}" >&2
		exit 1
	}
else
	scripts/doc-block.sh write README.md "$block" scripts/readme-matrix.sh "$work/tables"
fi
