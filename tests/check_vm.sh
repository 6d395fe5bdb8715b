#!/usr/bin/env bash
# The vm target (issue 5): builds Debian's Linux 6.1 image (scripts/vm-image.sh, cached in VMDIR),
# runs the catalogue with `matrix --targets local,vm` and requires README.md's two-kernel table to be
# what both kernels do; then checks that the run left no QEMU, no TAP and no scratch directory.
# usage: check_vm.sh HARNESS STATIC_AGENT SOURCE_DIR VMDIR
set -euo pipefail
if [ $# -ne 4 ]; then
	echo "usage: check_vm.sh HARNESS STATIC_AGENT SOURCE_DIR VMDIR" >&2
	exit 2
fi
harness=$1 agent=$2 source_dir=$3 vm_image=$4
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

status=0
"$source_dir/scripts/vm-image.sh" "$vm_image" "$agent" || status=$?
if [ "$status" -eq 3 ]; then
	echo "SKIP: no Linux 6.1 image: the Debian archive is unreachable and the kernel package is not cached"
	exit 77
fi
[ "$status" -eq 0 ] || exit "$status"
scratch_dirs() { find /tmp -maxdepth 1 -name 'tcpharness-vm-*' | sort; }
before_tmp=$(scratch_dirs)
"$source_dir/scripts/readme-matrix.sh" --check --kernels "$vm_image" "$harness" || fail "the two-kernel table"

# Left behind: a QEMU of ours (its command line names the image), a scratch directory.
if pgrep -f "qemu-system-x86_64.*$vm_image/vmlinuz" >/dev/null; then
	fail "a QEMU still runs: $(pgrep -af "qemu-system-x86_64.*$vm_image/vmlinuz")"
fi
# A scratch directory that appeared meanwhile is another engineer's run while its QEMU uses it.
for dir in $(comm -13 <(echo "$before_tmp") <(scratch_dirs)); do
	pgrep -f "qemu-system-x86_64.*$dir/" >/dev/null || fail "a scratch directory was left in /tmp: $dir"
done
if ip -o link | grep -q " thvm"; then fail "a TAP was left in this namespace"; fi

[ "$failures" -eq 0 ] || exit 1
echo "vm target: the two-kernel table holds and nothing was left behind"
