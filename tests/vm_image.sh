# Sourced by the checks that run on the image kernel:vm builds (check_vm_per_case.sh, check_vm_wrong.sh)
# with their arguments HARNESS SOURCE_DIR VMDIR: a SKIP without the image; else the caller continues in
# SOURCE_DIR with $harness, $vm_image and a scratch directory $work, removed on exit.
if [ $# -ne 3 ]; then
	echo "usage: $(basename "$0") HARNESS SOURCE_DIR VMDIR" >&2
	exit 2
fi
harness=$1 source_dir=$2 vm_image=$3
if ! [ -f "$vm_image/stamp" ]; then
	echo "SKIP: no VM image in $vm_image (kernel:vm builds it)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$source_dir"
