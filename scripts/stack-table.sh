#!/usr/bin/env bash
# Regenerates docs/stacks.md's generated blocks from the stacks themselves, or with --check only
# compares them (exit 1 and a diff when the page says otherwise):
#   stacks       `tcpharness matrix --markdown --family all --targets local,gvisor,lwip cases/`: a row
#                per case and family (ipv4, ipv6, mapped), a column per target
#   differences  every case that declares per-stack or per-family lines ({gvisor}, {!lwip}, {ipv6}...;
#                not the per-kernel {linux<5.4}), those lines, and the pcap of each side in each
#                family, copied to captures/stacks/<target>/ (not in --check mode)
# The table's header names each stack by its major.minor (`local: Linux 6.18`, `gvisor: runsc 0.0`,
# `lwip: lwIP 2.1`), and the comparison ignores the rest of the release (scripts/doc-block.sh).
# The catalogue must pass on every stack: a difference is a finding only where a case declares it.
# usage: scripts/stack-table.sh [--check] [HARNESS]   (HARNESS default: build/tcpharness)
set -euo pipefail
cd "$(dirname "$0")/.."
check=false
case ${1:-} in
--check) check=true; shift ;;
-*) echo "usage: scripts/stack-table.sh [--check] [HARNESS]" >&2; exit 2 ;;
esac
harness=${1:-build/tcpharness}
targets=(local gvisor lwip)
page=docs/stacks.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
# Classic pcap: the tracked captures and the page's links stay what they were (pcapng would rename them all).
"$harness" matrix --markdown --family all --targets "$(IFS=,; echo "${targets[*]}")" --captures "$work/captures" \
	--capture-format pcap cases/ \
	>"$work/stacks" 2>"$work/console" || status=$?
if [ "$status" -ne 0 ]; then
	cat "$work/console" >&2
	echo "stack-table: the catalogue did not pass on every stack (exit $status); $page keeps its blocks" >&2
	exit 1
fi

# What the stacks do, not how punctual the harness was: a pass on a retry (FLAKY, `~` after its cell
# and a note under the table) is a pass here, as in readme-matrix.sh.
awk -f "$(dirname "$0")/matrix-steady.awk" \
	"$work/stacks" >"$work/stacks.steady"
mv "$work/stacks.steady" "$work/stacks"

# One entry per case with per-stack lines: the lines, then a pcap per target and variant.
: >"$work/differences"
: >"$work/pcaps"
while IFS= read -r file; do
	name=${file#cases/}
	name=${name%.tc}
	{
		printf '### %s\n\n```\n' "$name"
		grep -E '^[[:space:]]*(\[[^]]*\][[:space:]]*)?\{[^}<>=]*\}' "$file"
		printf '```\n\n'
	} >>"$work/differences"
	# One directory per case@variant, a pcap per family in it (NAME[@VARIANT]/ipv4.pcap).
	for pcap in "$work/captures/local/$name"/*.pcap "$work/captures/local/$name"@*/*.pcap; do
		[ -e "$pcap" ] || continue
		run=${pcap#"$work/captures/local/"}
		links=()
		for t in "${targets[@]}"; do
			# A SKIP never reached the wire, so it has no capture.
			if [ -e "$work/captures/$t/$run" ]; then
				links+=("[$t](../captures/stacks/$t/$run)")
				echo "$t/$run" >>"$work/pcaps"
			else
				links+=("$t: SKIP")
			fi
		done
		printf -- '- `%s`: %s\n' "${run%.pcap}" "$(IFS='|'; echo "${links[*]}" | sed 's/|/ · /g')" >>"$work/differences"
	done
	echo >>"$work/differences"
done < <(grep -lE '^[[:space:]]*(\[[^]]*\][[:space:]]*)?\{[^}<>=]*\}' $(find cases -name '*.tc' | sort) || true)

# Both blocks' markers are checked before either block is written.
for b in stacks differences; do
	scripts/doc-block.sh show "$page" "$b" scripts/stack-table.sh >/dev/null
done
if $check; then
	failed=0
	for b in stacks differences; do
		scripts/doc-block.sh check "$page" "$b" scripts/stack-table.sh "$work/$b" || failed=1
	done
	if [ "$failed" -ne 0 ]; then
		echo "stack-table: $page differs from what the stacks do; run scripts/stack-table.sh" >&2
		exit 1
	fi
	exit 0
fi
for b in stacks differences; do
	scripts/doc-block.sh write "$page" "$b" scripts/stack-table.sh "$work/$b"
done
rm -rf captures/stacks
while IFS= read -r rel; do
	mkdir -p "captures/stacks/$(dirname "$rel")"
	cp "$work/captures/$rel" "captures/stacks/$rel"
done <"$work/pcaps"
echo "$page rewritten; $(wc -l <"$work/pcaps") pcaps in captures/stacks/"
