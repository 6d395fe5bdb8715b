#!/usr/bin/env bash
# Debian 12's Linux 6.1 booted from its own files with `--target vm --kernel` (issue 17): the cloud
# kernel's vmlinuz (a bzImage) directly, and the generic kernel, whose virtio and inet_diag drivers
# are all modules, from its vmlinuz and package. Each runs the catalogue in every family and must give
# README.md's vm column (which kernel:vm checks for the cloud image's vmlinux): a pass, or a SKIP with
# its reason, in every cell. The generic package (70 MB) is the cloud one's ABI revision, cached in
# KERNELS_DIR/cache and downloaded there by apt when missing (never installed); SKIP when it can be
# neither found nor downloaded. First, without booting: a kernel whose configuration lacks what the
# guest needs is refused with each lack named.
# usage: check_vm_kernels.sh HARNESS SOURCE_DIR VMDIR KERNELS_DIR
set -euo pipefail
if [ $# -ne 4 ]; then
	echo "usage: check_vm_kernels.sh HARNESS SOURCE_DIR VMDIR KERNELS_DIR" >&2
	exit 2
fi
harness=$1 source_dir=$2 vm_image=$3 kernels_dir=$4
cloud_deb=$(find "$vm_image/cache" -maxdepth 1 -name 'linux-image-6.1.*-cloud-amd64_*.deb' 2>/dev/null | head -n 1)
if ! [ -f "$vm_image/stamp" ] || [ -z "$cloud_deb" ]; then
	echo "SKIP: no Debian 6.1 cloud image with its package in $vm_image (kernel:vm builds it)"
	exit 77
fi
# linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb -> linux-image-6.1.0-56-amd64 6.1.192-2
cloud_name=${cloud_deb##*/}
cloud_pkg=${cloud_name%%_*}
version=${cloud_name#*_}
version=${version%_amd64.deb}
generic_pkg=${cloud_pkg/-cloud-amd64/-amd64}
cloud_release=${cloud_pkg#linux-image-}
generic_release=${generic_pkg#linux-image-}
work=$(mktemp -d /tmp/tcpharness-vm-kernels-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

# What a kernel lacks is said before anything boots: the cloud bzImage next to a config-RELEASE
# without network namespaces, and without --modules for its module-built drivers.
mkdir "$work/lacking"
cp "$vm_image/vmlinuz" "$work/lacking/vmlinuz"
sed 's/^CONFIG_NET_NS=y$/# CONFIG_NET_NS is not set/' "$vm_image/config" >"$work/lacking/config-$cloud_release"
status=0
XDG_CACHE_HOME=$work/lacking "$harness" run -j 1 --target vm --kernel "$work/lacking/vmlinuz" "$source_dir/cases/handshake/accept.tc" \
	>"$work/lacking/out" 2>&1 || status=$?
if [ "$status" -ne 2 ] || ! grep -q "^  CONFIG_NET_NS is not set$" "$work/lacking/out" ||
	! grep -q "^  CONFIG_VIRTIO_NET=m: give its module virtio_net.ko with --modules DIR or the kernel's .deb$" "$work/lacking/out" ||
	grep -q "TCPHARNESS\|PASS\|FAIL" "$work/lacking/out"; then
	echo "FAIL: a kernel lacking network namespaces and its modules (exit $status, want 2 and each lack named):"
	sed 's/^/    /' "$work/lacking/out"
	failures=$((failures + 1))
fi

mkdir -p "$kernels_dir/cache"
generic_deb=$kernels_dir/cache/${generic_pkg}_${version//:/%3a}_amd64.deb
if ! [ -f "$generic_deb" ]; then
	echo "downloading $generic_pkg $version into $kernels_dir/cache"
	sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	if ! (cd "$kernels_dir/cache" && apt-get download -q "${sandbox[@]}" "$generic_pkg=$version" >/dev/null 2>&1); then
		echo "SKIP: Debian's generic $generic_pkg $version is not in $kernels_dir/cache and apt cannot download it"
		[ "$failures" -eq 0 ] || exit 1
		exit 77
	fi
fi
# Each vmlinuz where it stays between runs: the image cache is keyed by the kernel file's path.
for which in cloud generic; do
	deb_var=${which}_deb release_var=${which}_release
	vmlinuz=$kernels_dir/boot/vmlinuz-${!release_var}
	[ -f "$vmlinuz" ] || dpkg-deb --fsys-tarfile "${!deb_var}" | tar -x -C "$kernels_dir" "./boot/vmlinuz-${!release_var}"
	file -b "$vmlinuz" | grep -q "bzImage" || { echo "FAIL: $which: $vmlinuz is not a bzImage: $(file -b "$vmlinuz")"; exit 1; }
done
cd "$source_dir"

# README's vm column as "case/family cell" lines.
awk '/<!-- kernels:begin/{inside=1; next} /<!-- kernels:end/{inside=0} inside && /^\| [a-z]/ && !/^\| case/' README.md |
	awk -F' [|] ' '{ gsub(/^\| /, "", $1); gsub(/ \|$/, "", $3); print $1, $3 }' | sort >"$work/want"
[ -s "$work/want" ] || { echo "FAIL: no kernels table in README.md"; exit 1; }

# A single target's tables ("| case | ipv4 | ipv6 | mapped |", or VARIANT/FAMILY columns) as the same
# lines; a pass on a retry (`~`) is a pass, as readme-matrix.sh counts it.
cells_of_tables() {
	awk -F' [|] ' '
		/^\| case \|/ { n = NF; for (i = 2; i <= NF; i++) { col[i] = $i; gsub(/ \|$/, "", col[i]) } next }
		/^\|---/ { next }
		/^\| [a-z]/ && n {
			gsub(/^\| /, "", $1)
			for (i = 2; i <= NF; i++) {
				cell = $i; gsub(/ \|$/, "", cell); gsub(/~$/, "", cell)
				name = col[i] ~ /\// ? $1 "@" col[i] : $1 "/" col[i]
				if (cell != "-")
					print name, cell
			}
		}
		/^$/ { n = 0 }' "$1" | sort
}

for which in cloud generic; do
	deb_var=${which}_deb release_var=${which}_release
	status=0
	# The images of kernel files live in KERNELS_DIR between runs, not in the user's cache. A guest
	# starved of CPU (two TCG guests on two CPUs answered 7 ms late once at load 3) makes its late
	# line an ERROR (the vCPU's run-queue wait, the agent's clock watch), retried as usual; a FAIL stands.
	XDG_CACHE_HOME=$kernels_dir "$harness" matrix -j 2 --markdown --allow-skip-only --targets vm \
		--kernel "$kernels_dir/boot/vmlinuz-${!release_var}" --modules "${!deb_var}" --captures "$work/captures" cases/ \
		>"$work/$which.tables" 2>"$work/$which.console" || status=$?
	if [ "$status" -gt 1 ]; then
		echo "FAIL: $which (--kernel vmlinuz-${!release_var}): exit $status"
		sed 's/^/    /' "$work/$which.console"
		failures=$((failures + 1))
		continue
	fi
	[ "$status" -eq 0 ] || grep -A8 '^FAIL ' "$work/$which.console" | sed 's/^/    /'
	cells_of_tables "$work/$which.tables" >"$work/$which.got"
	if diff -u --label "README.md (the cloud image's vmlinux)" --label "$which: --kernel vmlinuz-${!release_var}" \
		"$work/want" "$work/$which.got"; then
		echo "$which: --kernel vmlinuz-${!release_var} (bzImage) gave README's vm cell in all $(wc -l <"$work/$which.got") case@variant/family runs"
	else
		echo "FAIL: $which: the cells differ from README's vm column"
		failures=$((failures + 1))
	fi
	# Each SKIP states its reason on the line after it.
	unexplained=$(awk '/^SKIP / { skip = $2; next } skip && !/^    [a-z]/ { print skip } { skip = "" }
		END { if (skip) print skip }' "$work/$which.console")
	[ -z "$unexplained" ] || { echo "FAIL: $which: a SKIP without a reason: $unexplained"; failures=$((failures + 1)); }
	echo "$which: the reasons of its SKIPs (count, reason):"
	awk '/^SKIP / { skip = 1; next } skip { sub(/^ +/, ""); print } { skip = 0 }' "$work/$which.console" |
		sed 's/ (vm: Linux [^)]*)//' | sort | uniq -c | sort -rn | sed 's/^/    /'
done
[ "$failures" -eq 0 ] || exit 1
