#!/usr/bin/env bash
# Builds a second test target: Debian 12's Linux 6.1 cloud kernel (OUTDIR/vmlinuz) and a busybox
# initramfs serving tcpharness-agent on virtio-serial (OUTDIR/initrd.img); docs/vm-notes.md explains.
set -euo pipefail

usage() {
	cat >&2 <<-EOF
	usage: $0 OUTDIR AGENT_BINARY

	Writes OUTDIR/vmlinuz, OUTDIR/vmlinux (the same kernel uncompressed, boots faster), OUTDIR/initrd.img,
	OUTDIR/config (the kernel's .config) and OUTDIR/stamp, caching the kernel package in OUTDIR/cache
	and in apt's /var/cache/apt/archives. Does nothing when OUTDIR/stamp matches the inputs.
	Exit status 3: the package could not be downloaded and no copy is cached.
	The kernel is the one linux-image-cloud-amd64 depends on; TCPHARNESS_VM_KERNEL_PKG=NAME pins another
	linux-image-6.1.*-cloud-amd64. AGENT_BINARY is best static (tcpharness-agent-static); a dynamic one
	gets the libraries ldd lists.
	EOF
	exit 2
}
[ $# -eq 2 ] || usage
outdir=$1
agent=$2
if ! [ -f "$agent" ] || ! [ -x "$agent" ]; then
	echo "vm-image: $agent is not an executable file" >&2
	usage
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
init_script=$here/vm/init
busybox=/bin/busybox

# Transports for both machine types (virtio_pci: pc/q35, virtio_mmio: microvm), the two devices, and
# sock_diag for TCP: all =m in Debian's cloud config. INET_DIAG_DESTROY is =y, inside inet_diag.ko.
wanted_modules=(virtio_pci virtio_mmio virtio_net virtio_console inet_diag tcp_diag)

# One apt-cache call (0.3 s) so an up-to-date OUTDIR costs little: the metapackage's Depends names the
# image package with its exact version.
if [ -n "${TCPHARNESS_VM_KERNEL_PKG:-}" ]; then
	read -r pkg version < <(apt-cache show --no-all-versions "$TCPHARNESS_VM_KERNEL_PKG" 2>/dev/null |
		awk '$1 == "Package:" { p = $2 } $1 == "Version:" { print p, $2; exit }') || true
else
	read -r pkg version < <(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^Depends: \(linux-image-[^ ]*\) (= \([^)]*\)).*/\1 \2/p') || true
fi
if ! [[ "${pkg:-}" =~ ^linux-image-(6\.1\.[0-9]+-[0-9]+-cloud-amd64)$ ]] || [ -z "${version:-}" ]; then
	echo "vm-image: apt knows no linux-image-6.1.*-cloud-amd64 (got '${pkg:-}'); run apt-get update?" >&2
	exit 1
fi
release=${BASH_REMATCH[1]}
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
	{ echo "vm-image: needs busybox-static (scripts/install-deps.sh --target vm)" >&2; exit 1; }

# ldd prints "not a dynamic executable" (status 1) for a static agent; any listed path is a library.
agent_libs=()
if ldd_out=$(ldd "$agent" 2>/dev/null); then
	while read -r lib; do
		agent_libs+=("$lib")
	done < <(printf '%s\n' "$ldd_out" | grep -o '/[^ ]*' | sort -u)
fi

stamp_text() {
	echo "kernel $pkg $version"
	echo "busybox-static $(dpkg-query -W -f='${Version}' busybox-static)"
	sha256sum "$agent" "${agent_libs[@]}" "$init_script" "${BASH_SOURCE[0]}" | awk '{ print "sha256", $1 }'
}
mkdir -p "$outdir/cache"
want_stamp=$(stamp_text)
if [ -f "$outdir/stamp" ] && [ -f "$outdir/vmlinuz" ] && [ -f "$outdir/vmlinux" ] && [ -f "$outdir/initrd.img" ] &&
	[ "$(cat "$outdir/stamp")" = "$want_stamp" ]; then
	echo "vm-image: $outdir is up to date ($release, agent $(sha256sum "$agent" | cut -c1-12))"
	exit 0
fi

# A build that dies half-way must not leave an old stamp vouching for new files.
rm -f "$outdir/stamp"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

deb=$outdir/cache/${pkg}_${version//:/%3a}_amd64.deb
# apt's own archive cache keeps the package for every build tree on this machine (a fresh clone
# builds without the network while the Debian archive is unreachable).
apt_cached=/var/cache/apt/archives/${deb##*/}
if [ ! -f "$deb" ] && [ -f "$apt_cached" ]; then
	find "$outdir/cache" -name 'linux-image-*.deb' -delete
	cp "$apt_cached" "$deb"
fi
if [ ! -f "$deb" ]; then
	echo "vm-image: downloading $pkg $version"
	# apt drops to user _apt for downloads and warns when _apt cannot write the directory.
	sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	if ! (cd "$work" && apt-get download -q "${sandbox[@]}" "$pkg=$version" >/dev/null); then
		echo "vm-image: cannot download $pkg $version from the Debian archive, and no copy is cached" >&2
		exit 3
	fi
	find "$outdir/cache" -name 'linux-image-*.deb' -delete
	mv "$work/${deb##*/}" "$deb"
fi
[ -f "$apt_cached" ] || [ ! -w "${apt_cached%/*}" ] || cp "$deb" "$apt_cached"

kroot=$work/kernel
dpkg-deb -x "$deb" "$kroot"
moddir=$kroot/lib/modules/$release
# The package ships no modules.dep (its postinst runs depmod); busybox's depmod needs no kmod.
"$busybox" depmod -b "$kroot" "$release"

declare -A deps=() loaded=()
while IFS=: read -r ko rest; do
	deps[$ko]=$rest
done <"$moddir/modules.dep"
declare -A path_of=()
for ko in "${!deps[@]}"; do
	name=${ko##*/}
	name=${name%%.ko*}
	path_of[$name]=$ko
done

order=()
visit() {
	local ko=$1 dep
	[ -z "${loaded[$ko]:-}" ] || return 0
	loaded[$ko]=1
	for dep in ${deps[$ko]}; do
		visit "$dep"
	done
	order+=("$ko")
}
for name in "${wanted_modules[@]}"; do
	[ -n "${path_of[$name]:-}" ] || { echo "vm-image: $release has no module $name" >&2; exit 1; }
	visit "${path_of[$name]}"
done

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
install -m 0755 "$init_script" "$root/init"
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$agent" "$root/bin/tcpharness-agent"
strip --strip-all "$root/bin/tcpharness-agent"
for lib in "${agent_libs[@]}"; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# busybox insmod takes plain .ko files only; 6.1 ships them uncompressed, later Debian kernels as .xz.
: >"$root/lib/modules/load-order"
for ko in "${order[@]}"; do
	plain=${ko%.xz}
	plain=${plain%.zst}
	plain=${plain%.gz}
	mkdir -p "$root/lib/modules/$(dirname "$plain")"
	case "$ko" in
	*.xz) xz -dc "$moddir/$ko" >"$root/lib/modules/$plain" ;;
	*.zst) zstd -qdc "$moddir/$ko" >"$root/lib/modules/$plain" ;;
	*.gz) gzip -dc "$moddir/$ko" >"$root/lib/modules/$plain" ;;
	*) cp "$moddir/$ko" "$root/lib/modules/$plain" ;;
	esac
	echo "$plain" >>"$root/lib/modules/load-order"
done

# Same inputs, same bytes: fixed order, owners and times. /dev/console comes from the kernel's own
# built-in initramfs, so building needs no mknod and no root.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$work/initrd.img"

# The bzImage's compressed payload as a plain ELF: QEMU boots it through its PVH entry, which skips
# the decompressor; under TCG that is 0.3 s of a 2 s boot. Offsets from the x86 boot protocol header.
bz=$kroot/boot/vmlinuz-$release
header_u() { od -An -t"u$2" -j "$1" -N "$2" "$bz" | tr -d ' '; }
payload_start=$((($(header_u $((0x1f1)) 1) + 1) * 512 + $(header_u $((0x248)) 4)))
payload_len=$(header_u $((0x24c)) 4)
# Kbuild appends the uncompressed size (4 bytes LE) to lz4/xz/zstd payloads; gzip carries its own.
case $(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' "$kroot/boot/config-$release") in
CONFIG_KERNEL_LZ4=y) unpack=(lz4 -dc) trailer=4 ;;
CONFIG_KERNEL_XZ=y) unpack=(xz -dc) trailer=4 ;;
CONFIG_KERNEL_ZSTD=y) unpack=(zstd -qdc) trailer=4 ;;
CONFIG_KERNEL_GZIP=y) unpack=(gzip -dc) trailer=0 ;;
*) echo "vm-image: $release: unknown kernel compression" >&2; exit 1 ;;
esac
dd if="$bz" iflag=skip_bytes,count_bytes skip="$payload_start" count=$((payload_len - trailer)) status=none |
	"${unpack[@]}" >"$work/vmlinux"
[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = 177ELF ] ||
	{ echo "vm-image: $release: the bzImage payload is no ELF" >&2; exit 1; }

install -m 0644 "$bz" "$outdir/vmlinuz"
mv "$work/vmlinux" "$outdir/vmlinux"
install -m 0644 "$kroot/boot/config-$release" "$outdir/config"
mv "$work/initrd.img" "$outdir/initrd.img"
printf '%s\n' "$want_stamp" >"$outdir/stamp"
echo "vm-image: $outdir: vmlinuz, vmlinux ($release), initrd.img $(du -k "$outdir/initrd.img" | cut -f1) KiB," \
	"modules: ${order[*]##*/}"
