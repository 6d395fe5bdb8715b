#!/usr/bin/env bash
# Regenerates README.md's outcome tables from `tcpharness matrix --markdown cases/` on the running
# kernel, or with --check only compares them (exit 1 and a diff when the README says otherwise).
# usage: scripts/readme-matrix.sh [--check] [HARNESS]   (HARNESS default: build/tcpharness)
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
if [ "${1:-}" = --check ]; then check=true; shift; fi
harness=${1:-build/tcpharness}
begin='<!-- matrix:begin (scripts/readme-matrix.sh writes this block) -->'
end='<!-- matrix:end -->'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
"$harness" matrix --markdown --captures "$work/captures" cases/ >"$work/tables" 2>"$work/console" || status=$?
if [ "$status" -ne 0 ]; then
	cat "$work/console" >&2
	echo "readme-matrix: the catalogue did not pass (exit $status); the README keeps its tables" >&2
	exit 1
fi
# The README block: everything between the markers, markers excluded.
awk -v b="$begin" -v e="$end" '$0==e{inside=0} inside{print} $0==b{inside=1}' README.md >"$work/readme_tables"
if ! grep -qxF "$begin" README.md || ! grep -qxF "$end" README.md; then
	echo "readme-matrix: README.md lacks the markers '$begin' and '$end'" >&2
	exit 1
fi
if $check; then
	if ! diff -u --label README.md --label "tcpharness matrix" "$work/readme_tables" "$work/tables"; then
		echo "readme-matrix: README.md's tables differ from this kernel's matrix; run scripts/readme-matrix.sh" >&2
		exit 1
	fi
	echo "README.md's tables match this kernel's matrix"
	exit 0
fi
awk -v b="$begin" -v e="$end" -v tables="$work/tables" '
	$0==b {print; while ((getline line < tables) > 0) print line; skip=1; next}
	$0==e {skip=0}
	!skip {print}' README.md >"$work/README.md"
cp "$work/README.md" README.md
echo "README.md's tables rewritten from this kernel's matrix"
