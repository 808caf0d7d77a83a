#!/usr/bin/env bash
# make demo: a tiny "container" from Debian's busybox-static, offline and
# without a registry. It builds a one-layer image (a rootfs with /bin/busybox
# and its applets, tarred), indexes it with nook, mounts the copy-on-write
# union with nook-overlayfs inside a user namespace (unshare -Urm), runs a
# shell in it with chroot, and shows that the upper dir holds only what the
# shell changed. Running containers properly (namespaces, cgroups, pivot_root)
# comes in later issues.
#
# Usage: scripts/demo.sh [BIN_DIR]    (default: bin/, as made by make build)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$repo/bin}" && pwd)
busybox=/bin/busybox

die() { echo "demo: $*" >&2; exit 1; }

[ -x "$bin/nook" ] && [ -x "$bin/nook-overlayfs" ] || die "no $bin/nook or $bin/nook-overlayfs: run make build"
[ -x "$busybox" ] || die "no $busybox: sudo apt-get install -y busybox-static"
# A dynamically linked busybox (Debian's busybox package) cannot run in a
# rootfs without its libraries.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: sudo apt-get install -y busybox-static"
fi
command -v unshare >/dev/null || die "no unshare: sudo apt-get install -y util-linux"
unshare --user --map-root-user true 2>/dev/null ||
	die "cannot make a user namespace (unshare -Ur): enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"

work=$(mktemp -d "${TMPDIR:-/tmp}/nook-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "1. build a one-layer image from $busybox"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,dev}
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo nook-demo >"$rootfs/etc/hostname"
tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf "$work/image.tar" .
echo "image.tar: $(tar -tf "$work/image.tar" | wc -l) entries, $(du -h "$work/image.tar" | cut -f1)"

step "2. index it: nook layer index image.tar store"
layer=$("$bin/nook" layer index -q "$work/image.tar" "$work/store")
ls -l "$work/store"

step "3. mount the union and run a shell in it (inside unshare -Urm)"
mkdir -p "$work/upper" "$work/work" "$work/mnt"
# Arguments, not environment, carry the paths into the namespace.
unshare --user --map-root-user --mount --fork bash -euo pipefail -c '
	bin=$1 layer=$2 work=$3
	echo "+ nook-overlayfs -o lowerdir=store/$(basename "$layer"),upperdir=upper,workdir=work mnt"
	"$bin/nook-overlayfs" -o "lowerdir=$layer,upperdir=$work/upper,workdir=$work/work" "$work/mnt"
	echo "+ chroot mnt /bin/busybox sh -c '\''echo hello from nook; ls /; touch /newfile'\''"
	chroot "$work/mnt" /bin/busybox sh -c "echo hello from nook; ls /; touch /newfile"
	umount "$work/mnt"
' demo "$bin" "$layer" "$work"

step "4. the upper dir holds only the change"
(cd "$work/upper" && find . -mindepth 1 | sort)
if [ "$(cd "$work/upper" && find . -mindepth 1)" != ./newfile ]; then
	die "the upper dir should hold exactly ./newfile"
fi
echo
echo "demo: done; the layer was served straight from its tar, never unpacked."
