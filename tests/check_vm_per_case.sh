#!/usr/bin/env bash
# One VM per case file gives the cells one VM for the whole catalogue gives (issue 17): README.md's
# kernels table, which kernel:vm checks against a single VM, must hold for its vm column when every
# case file boots a VM of its own. Leftovers of one case in the next (sockets, sysctls) would show as
# a difference. Slow: a boot per case file.
# usage: check_vm_per_case.sh HARNESS SOURCE_DIR VMDIR
set -euo pipefail
. "$(dirname "$0")/vm_image.sh"

# The README's vm column: "| case/family | local | vm |" rows between the kernels markers.
awk '/<!-- kernels:begin/{inside=1; next} /<!-- kernels:end/{inside=0} inside && /^\| [a-z]/ && !/^\| case/' README.md |
	awk -F' [|] ' '{ gsub(/^\| /, "", $1); gsub(/ \|$/, "", $3); print $1, $3 }' | sort >"$work/want"
[ -s "$work/want" ] || { echo "FAIL: no kernels table in README.md"; exit 1; }

failures=0
for file in $(find cases -name '*.tc' | sort); do
	status=0
	"$harness" matrix -j 1 --markdown --allow-skip-only --targets vm,local --vm-image "$vm_image" --captures "$work/captures" "$file" \
		>"$work/table" 2>"$work/console" || status=$?
	if [ "$status" -gt 1 ]; then
		echo "FAIL: $file: exit $status"
		sed 's/^/    /' "$work/console"
		failures=$((failures + 1))
		continue
	fi
	# A failed case shows its diagnostic here, so a difference below can be told from a slow guest.
	[ "$status" -eq 0 ] || grep -A8 '^FAIL ' "$work/console" | sed 's/^/    /'
	awk -F' [|] ' 'NR > 2 && /^\| / { gsub(/^\| /, "", $1); print $1, $2 }' "$work/table" >>"$work/got"
done
sort -o "$work/got" "$work/got"
if ! diff -u --label "README.md (one VM for the catalogue)" --label "one VM per case file" "$work/want" "$work/got"; then
	echo "FAIL: the cells differ"
	exit 1
fi
echo "one VM per case file: the same $(wc -l <"$work/got") cells as one VM for the whole catalogue"
