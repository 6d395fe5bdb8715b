#!/usr/bin/env bash
# Builds the VM target's image: a kernel (Debian 12's Linux 6.1 cloud kernel by default, or any kernel
# file given) and a busybox initramfs serving tcpharness-agent on virtio-serial (OUTDIR/initrd.img);
# docs/vm-notes.md explains.
set -euo pipefail

# The kernel package README.md's two-kernel table was made with. Pinned, so that a new Debian 6.1
# revision changes the table only when someone chooses it (TCPHARNESS_VM_KERNEL_PKG, then
# scripts/readme-matrix.sh --kernels) and a fresh machine builds the same kernel.
pinned_pkg=linux-image-6.1.0-56-cloud-amd64
pinned_version=6.1.192-2

usage() {
	cat >&2 <<-EOF
	usage: $0 [--kernel FILE [--modules DIR|PACKAGE.deb]] OUTDIR AGENT_BINARY

	Without --kernel: Debian 12's Linux 6.1 cloud kernel. Writes OUTDIR/vmlinuz, OUTDIR/vmlinux (the
	same kernel uncompressed, boots faster), OUTDIR/initrd.img, OUTDIR/config (the kernel's .config),
	OUTDIR/release and OUTDIR/stamp, caching the kernel package in OUTDIR/cache and in apt's
	/var/cache/apt/archives. Exit status 3: the package could not be downloaded and no copy is cached.
	The kernel is pinned: $pinned_pkg $pinned_version, the one README.md's
	two-kernel table was made with. When the Debian archive no longer has it and no copy is cached, the
	6.1 kernel linux-image-cloud-amd64 depends on today is used instead, and said so (the table names
	Linux 6.1 only; its cells must still hold). TCPHARNESS_VM_KERNEL_PKG=NAME takes another
	linux-image-6.1.*-cloud-amd64 instead.
	With --kernel FILE: any x86-64 Linux kernel, a bzImage (as make bzImage leaves it) or a vmlinux ELF
	with a PVH entry (CONFIG_PVH=y), copied to OUTDIR/vmlinuz or OUTDIR/vmlinux. Drivers built as modules
	come from --modules: a directory (INSTALL_MOD_PATH, or lib/modules/RELEASE itself) or the kernel's
	Debian package. The kernel's configuration is read from that package, from a config-RELEASE or the
	build tree's .config next to FILE, or from the kernel itself (CONFIG_IKCONFIG); what the guest needs
	and the kernel lacks is named before anything boots (exit 4). Without any configuration, init
	checks at boot and names what is missing.
	Does nothing when OUTDIR/stamp matches the inputs. AGENT_BINARY is best static
	(tcpharness-agent-static); a dynamic one gets the libraries ldd lists.
	EOF
	exit 2
}
kernel_file=
modules_from=
while [ $# -gt 0 ] && [[ "$1" == --* ]]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernel_file=$2; shift 2 ;;
	--modules) [ $# -ge 2 ] || usage; modules_from=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ $# -eq 2 ] || usage
[ -z "$modules_from" ] || [ -n "$kernel_file" ] || { echo "vm-image: --modules goes with --kernel" >&2; usage; }
outdir=$1
agent=$2
if ! [ -f "$agent" ] || ! [ -x "$agent" ]; then
	echo "vm-image: $agent is not an executable file" >&2
	usage
fi
if [ -n "$kernel_file" ] && ! [ -f "$kernel_file" ]; then
	echo "vm-image: --kernel $kernel_file: no such file" >&2
	exit 2
fi
if [ -n "$modules_from" ] && ! [ -e "$modules_from" ]; then
	echo "vm-image: --modules $modules_from: no such file or directory" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
init_script=$here/vm/init
busybox=/bin/busybox

# Transports for both machine types (virtio_pci: pc/q35, virtio_mmio: microvm), the two devices, and
# sock_diag for TCP: all =m in Debian's cloud config. INET_DIAG_DESTROY is =y, inside inet_diag.ko.
wanted_modules=(virtio_pci virtio_mmio virtio_net virtio_console inet_diag tcp_diag)
# What the guest needs from any kernel: config option, and the module that provides it when it is =m
# ("-": it cannot be a module). virtio_mmio (microvm only) is taken when present, never required.
required_options=(
	BLK_DEV_INITRD:- DEVTMPFS:- PROC_FS:- SYSFS:- INET:- NET_NS:- SERIAL_8250_CONSOLE:-
	VIRTIO_PCI:virtio_pci VIRTIO_NET:virtio_net VIRTIO_CONSOLE:virtio_console
	INET_DIAG:inet_diag INET_TCP_DIAG:tcp_diag
)

dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
	{ echo "vm-image: needs busybox-static (scripts/install-deps.sh --target vm)" >&2; exit 1; }

# Which package: the one asked for, else the pin while the archive or a cache has it, else the 6.1
# kernel the metapackage names today. One or two apt-cache calls (0.3 s each), so an up-to-date
# OUTDIR costs little.
# Prints "PACKAGE VERSION" of a package apt knows (VERSION empty: any version).
apt_version() {
	apt-cache show --no-all-versions "$1${2:+=$2}" 2>/dev/null |
		awk '$1 == "Package:" { p = $2 } $1 == "Version:" { print p, $2; exit }'
}
cached_deb() { ls "$outdir/cache/$1_$2_amd64.deb" "/var/cache/apt/archives/$1_$2_amd64.deb" 2>/dev/null | head -n 1; }
debian_package() {
	pkg= version=
	if [ -n "${TCPHARNESS_VM_KERNEL_PKG:-}" ]; then
		read -r pkg version < <(apt_version "$TCPHARNESS_VM_KERNEL_PKG") || true
		choice="asked for by TCPHARNESS_VM_KERNEL_PKG"
	elif [ -n "$(cached_deb "$pinned_pkg" "${pinned_version//:/%3a}")" ] || [ -n "$(apt_version "$pinned_pkg" "$pinned_version")" ]; then
		pkg=$pinned_pkg version=$pinned_version
		choice="pinned: README.md's two-kernel table was made with it"
	else
		read -r pkg version < <(apt-cache show --no-all-versions linux-image-cloud-amd64 2>/dev/null |
			sed -n 's/^Depends: \(linux-image-[^ ]*\) (= \([^)]*\)).*/\1 \2/p') || true
		choice="the pinned $pinned_pkg $pinned_version is neither in the Debian archive nor cached; this is the current 6.1 kernel, and README.md's table (Linux 6.1) must still hold for it"
	fi
	if ! [[ "${pkg:-}" =~ ^linux-image-(6\.1\.[0-9]+-[0-9]+-cloud-amd64)$ ]] || [ -z "${version:-}" ]; then
		echo "vm-image: apt knows no linux-image-6.1.*-cloud-amd64 (got '${pkg:-}'); run apt-get update?" >&2
		exit 1
	fi
	release=${BASH_REMATCH[1]}
}

# The release a kernel file says it is: a bzImage points at its version string from the boot
# protocol header (kernel_version at 0x20e, relative to 0x200); a vmlinux holds "Linux version ...".
kernel_release_of() {
	local file=$1 magic offset
	magic=$(od -An -c -j $((0x202)) -N 4 "$file" | tr -d ' ')
	if [ "$magic" = HdrS ]; then
		offset=$(od -An -tu2 -j $((0x20e)) -N 2 "$file" | tr -d ' ')
		dd if="$file" iflag=skip_bytes skip=$((offset + 0x200)) count=1 bs=256 status=none | tr '\0' '\n' |
			head -n 1 | cut -d' ' -f1
	elif [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = 177ELF ]; then
		grep -a -o -m 1 'Linux version [^ ]*' "$file" | head -n 1 | cut -d' ' -f3
	fi
}

# Decompresses a bzImage's payload (x86 boot protocol: setup_sects at 0x1f1, payload_offset 0x248,
# payload_length 0x24c) into OUT, an ELF. The compression is known by its magic bytes; Kbuild
# appends the uncompressed size (4 bytes LE) to every payload but gzip's.
bzimage_payload() {
	local bz=$1 out=$2 start len magic unpack trailer=4
	header_u() { od -An -t"u$2" -j "$1" -N "$2" "$bz" | tr -d ' '; }
	start=$((($(header_u $((0x1f1)) 1) + 1) * 512 + $(header_u $((0x248)) 4)))
	len=$(header_u $((0x24c)) 4)
	magic=$(od -An -tx1 -j "$start" -N 4 "$bz" | tr -d ' ')
	case $magic in
	02214c18) unpack=(lz4 -dc) ;;
	fd377a58) unpack=(xz -dc) ;;
	28b52ffd) unpack=(zstd -qdc) ;;
	1f8b*) unpack=(gzip -dc) trailer=0 ;;
	425a68*) unpack=(bzip2 -dc) ;;
	5d00*) unpack=(xz --format=lzma -dc) ;;
	*) echo "vm-image: $bz: unknown payload compression (magic $magic)" >&2; return 1 ;;
	esac
	dd if="$bz" iflag=skip_bytes,count_bytes skip="$start" count=$((len - trailer)) status=none |
		"${unpack[@]}" >"$out" 2>/dev/null || true
	[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = 177ELF ] ||
		{ echo "vm-image: $bz: the bzImage payload is no ELF" >&2; return 1; }
}

# CONFIG_IKCONFIG: the .config gzipped between IKCFG_ST and IKCFG_ED inside the kernel's ELF.
embedded_config() {
	local elf=$1 out=$2 at
	at=$(grep -a -b -o -m 1 IKCFG_ST "$elf" | head -n 1 | cut -d: -f1)
	[ -n "$at" ] || return 1
	tail -c +$((at + 9)) "$elf" | gzip -dc >"$out" 2>/dev/null
	grep -q '^CONFIG_' "$out"
}

# modules.dep of a lib/modules/RELEASE tree, made with busybox's depmod (no kmod here) when missing:
# Debian's packages ship none (their postinst runs depmod).
need_modules_dep() {
	local root=$1
	[ -f "$root/lib/modules/$release/modules.dep" ] || "$busybox" depmod -b "$root" "$release"
}

# Kernel mode: release, configuration (config_src, may stay empty) and modules (moddir, may stay empty).
kernel_sources() {
	release=$(kernel_release_of "$kernel_file")
	[ -n "$release" ] || { echo "vm-image: $kernel_file is neither a bzImage nor a vmlinux ELF" >&2; exit 4; }
	config_src=
	moddir=
	local dir
	dir=$(cd "$(dirname "$kernel_file")" && pwd)
	if [ -n "$modules_from" ] && [ -f "$modules_from" ]; then
		dpkg-deb -x "$modules_from" "$work/kernel" ||
			{ echo "vm-image: --modules $modules_from is no Debian package" >&2; exit 4; }
		[ -d "$work/kernel/lib/modules/$release" ] ||
			{ echo "vm-image: $modules_from holds no lib/modules/$release (the kernel is $release)" >&2; exit 4; }
		need_modules_dep "$work/kernel"
		moddir=$work/kernel/lib/modules/$release
		[ ! -f "$work/kernel/boot/config-$release" ] || config_src=$work/kernel/boot/config-$release
	elif [ -n "$modules_from" ]; then
		local root
		root=$(cd "$modules_from" && pwd)
		if [ -d "$root/lib/modules/$release" ]; then
			moddir=$root/lib/modules/$release
		elif [ "$(basename "$root")" = "$release" ] && [ "$(basename "$(dirname "$root")")" = modules ]; then
			moddir=$root
			root=$(dirname "$(dirname "$(dirname "$root")")")
		else
			echo "vm-image: --modules $modules_from holds no lib/modules/$release (the kernel is $release)" >&2
			exit 4
		fi
		if [ ! -f "$moddir/modules.dep" ]; then
			mkdir -p "$work/modroot/lib/modules"
			cp -a "$moddir" "$work/modroot/lib/modules/"
			moddir=$work/modroot/lib/modules/$release
			need_modules_dep "$work/modroot"
		fi
		for f in "$moddir/build/.config" "$moddir/source/.config"; do
			[ -n "$config_src" ] || [ ! -f "$f" ] || config_src=$f
		done
	fi
	# Next to the file: Debian's /boot layout, or the build tree (arch/x86/boot/bzImage, or vmlinux at its root).
	for f in "$dir/config-$release" "$dir/.config" "$dir/../../../.config"; do
		[ -n "$config_src" ] || [ ! -f "$f" ] || config_src=$f
	done
	if [ -z "$config_src" ]; then
		local elf=$kernel_file
		if [ "$(head -c 4 "$kernel_file" | od -An -c | tr -d ' ')" != 177ELF ]; then
			elf=$work/payload.elf
			bzimage_payload "$kernel_file" "$elf" || elf=
		fi
		[ -z "$elf" ] || ! embedded_config "$elf" "$work/config.embedded" || config_src=$work/config.embedded
	fi
}

# What the guest needs and the kernel lacks, one line each; modules wanted get into wanted_modules.
check_kernel() {
	local missing=() entry option module value
	wanted_modules=()
	for entry in "${required_options[@]}"; do
		option=${entry%%:*} module=${entry#*:}
		value=$(sed -n "s/^CONFIG_$option=\(.*\)/\1/p" "$config_src")
		case "$value:$module" in
		y:*) ;;
		m:-) missing+=("CONFIG_$option=m, but it must be built in (=y)") ;;
		m:*)
			if [ -z "$moddir" ]; then
				missing+=("CONFIG_$option=m: give its module $module.ko with --modules DIR or the kernel's .deb")
			elif ! grep -q "/$module\.ko[.a-z]*:" "$moddir/modules.dep"; then
				missing+=("CONFIG_$option=m, but $moddir has no $module.ko")
			else
				wanted_modules+=("$module")
			fi
			;;
		*) missing+=("CONFIG_$option is not set") ;;
		esac
	done
	if [ "$(head -c 4 "$kernel_file" | od -An -c | tr -d ' ')" = 177ELF ] && ! grep -q '^CONFIG_PVH=y' "$config_src"; then
		missing+=("a vmlinux ELF boots under QEMU only with CONFIG_PVH=y; give the bzImage instead")
	fi
	if [ -n "$moddir" ] && grep -q '^CONFIG_VIRTIO_MMIO=m' "$config_src" && grep -q '/virtio_mmio\.ko' "$moddir/modules.dep"; then
		wanted_modules+=(virtio_mmio)
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		echo "vm-image: $kernel_file ($release) cannot serve as the VM target (configuration: $config_src):" >&2
		printf '  %s\n' "${missing[@]}" >&2
		exit 4
	fi
}

# Without a configuration: every wanted module the given tree has; init names what is missing at boot.
modules_present() {
	local name found=()
	for name in "${wanted_modules[@]}"; do
		[ -z "$moddir" ] || ! grep -q "/$name\.ko[.a-z]*:" "$moddir/modules.dep" || found+=("$name")
	done
	wanted_modules=("${found[@]}")
}

# ldd prints "not a dynamic executable" (status 1) for a static agent; any listed path is a library.
agent_libs=()
if ldd_out=$(ldd "$agent" 2>/dev/null); then
	while read -r lib; do
		agent_libs+=("$lib")
	done < <(printf '%s\n' "$ldd_out" | grep -o '/[^ ]*' | sort -u)
fi

if [ -n "$kernel_file" ]; then
	modules_sha=-
	if [ -f "$modules_from" ]; then
		modules_sha=$(sha256sum "$modules_from" | cut -c1-64)
	elif [ -n "$modules_from" ]; then
		modules_sha=$(cd "$modules_from" && find . -type f -name '*.ko*' -printf '%P %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c1-64)
	fi
	kernel_stamp="kernel file $(sha256sum "$kernel_file" | cut -c1-64) modules $modules_sha"
	boot_file=vmlinuz
	[ "$(head -c 4 "$kernel_file" | od -An -c | tr -d ' ')" != 177ELF ] || boot_file=vmlinux
else
	debian_package
	kernel_stamp="kernel $pkg $version"
	boot_file=vmlinux
fi

stamp_text() {
	echo "$kernel_stamp"
	echo "busybox-static $(dpkg-query -W -f='${Version}' busybox-static)"
	sha256sum "$agent" "${agent_libs[@]}" "$init_script" "${BASH_SOURCE[0]}" | awk '{ print "sha256", $1 }'
}
mkdir -p "$outdir/cache"
# Several VMs of one kernel boot at once under -j: the first builds, the others wait and find it done.
exec 9>"$outdir/lock"
flock 9
want_stamp=$(stamp_text)
if [ -f "$outdir/stamp" ] && [ -f "$outdir/$boot_file" ] && [ -f "$outdir/initrd.img" ] &&
	[ "$(cat "$outdir/stamp")" = "$want_stamp" ]; then
	echo "vm-image: $outdir is up to date ($(cat "$outdir/release" 2>/dev/null)${choice:+, $pkg $version, $choice}; agent $(sha256sum "$agent" | cut -c1-12))"
	exit 0
fi

# A build that dies half-way must not leave an old stamp vouching for new files, nor another
# kernel's files that the boot would prefer.
rm -f "$outdir/stamp" "$outdir/vmlinux" "$outdir/vmlinuz" "$outdir/config" "$outdir/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "$kernel_file" ]; then
	kernel_sources
	if [ -n "$config_src" ]; then
		check_kernel
	else
		echo "vm-image: no configuration found for $release (no .deb, no .config next to it, no CONFIG_IKCONFIG):" \
			"init will check at boot" >&2
		modules_present
	fi
else
	deb=$outdir/cache/${pkg}_${version//:/%3a}_amd64.deb
	# apt's own archive cache keeps the package for every build tree on this machine (a fresh clone
	# builds without the network while the Debian archive is unreachable).
	apt_cached=/var/cache/apt/archives/${deb##*/}
	if [ ! -f "$deb" ] && [ -f "$apt_cached" ]; then
		find "$outdir/cache" -name 'linux-image-*.deb' -delete
		cp "$apt_cached" "$deb"
	fi
	if [ ! -f "$deb" ]; then
		echo "vm-image: downloading $pkg $version ($choice)"
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
	need_modules_dep "$kroot"
	kernel_file=$kroot/boot/vmlinuz-$release
	config_src=$kroot/boot/config-$release
fi

declare -A deps=() loaded=()
[ -z "$moddir" ] || while IFS=: read -r ko rest; do
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

if [ "$boot_file" = vmlinux ] && [ "$(head -c 4 "$kernel_file" | od -An -c | tr -d ' ')" != 177ELF ]; then
	# The bzImage's compressed payload as a plain ELF: QEMU boots it through its PVH entry, which
	# skips the decompressor; under TCG that is 0.3 s of a 2 s boot.
	bzimage_payload "$kernel_file" "$work/vmlinux" || exit 1
	install -m 0644 "$kernel_file" "$outdir/vmlinuz"
	mv "$work/vmlinux" "$outdir/vmlinux"
else
	install -m 0644 "$kernel_file" "$outdir/$boot_file"
fi
[ -z "$config_src" ] || install -m 0644 "$config_src" "$outdir/config"
printf '%s\n' "$release" >"$outdir/release"
mv "$work/initrd.img" "$outdir/initrd.img"
printf '%s\n' "$want_stamp" >"$outdir/stamp"
echo "vm-image: $outdir: $boot_file ($release), initrd.img $(du -k "$outdir/initrd.img" | cut -f1) KiB," \
	"modules: ${order[*]##*/}"
