#!/usr/bin/env bash
# Regenerates one of README.md's outcome blocks from the running kernel, or with --check only compares
# it (exit 1 and a diff when the README says otherwise). Without --kernels: the catalogue's tables in
# every address family (`tcpharness matrix --markdown cases/`); with --kernels VMDIR: the two-kernel
# table in ipv4 (`matrix --markdown --family 4 --targets local,vm --vm-image VMDIR cases/`, VMDIR from
# scripts/vm-image.sh).
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
	# The vm target runs the ipv4 family only so far.
	command=(matrix --markdown --family 4 --targets local,vm --vm-image "$vm_image")
else
	block=matrix
	command=(matrix --markdown)
fi
begin="<!-- $block:begin (scripts/readme-matrix.sh writes this block) -->"
end="<!-- $block:end -->"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
"$harness" "${command[@]}" --captures "$work/captures" cases/ >"$work/tables" 2>"$work/console" || status=$?
if [ "$status" -ne 0 ]; then
	cat "$work/console" >&2
	echo "readme-matrix: the catalogue did not pass (exit $status); the README keeps its tables" >&2
	exit 1
fi
if ! grep -qxF "$begin" README.md || ! grep -qxF "$end" README.md; then
	echo "readme-matrix: README.md lacks the markers '$begin' and '$end'" >&2
	exit 1
fi
# The README block: everything between the markers, markers excluded.
awk -v b="$begin" -v e="$end" '$0==e{inside=0} inside{print} $0==b{inside=1}' README.md >"$work/readme_tables"
if $check; then
	if ! diff -u --label README.md --label "tcpharness ${command[*]}" "$work/readme_tables" "$work/tables"; then
		echo "readme-matrix: README.md's $block block differs from what the kernels do; run scripts/readme-matrix.sh${vm_image:+ --kernels $vm_image}" >&2
		exit 1
	fi
	echo "README.md's $block block matches what the kernels do"
	exit 0
fi
awk -v b="$begin" -v e="$end" -v tables="$work/tables" '
	$0==b {print; while ((getline line < tables) > 0) print line; skip=1; next}
	$0==e {skip=0}
	!skip {print}' README.md >"$work/README.md"
cp "$work/README.md" README.md
echo "README.md's $block block rewritten from the kernels' matrix"
