#!/usr/bin/env bash
# make demo: a real container, offline, without root or a registry. It
# builds a one-layer busybox image from Debian's busybox-static, imports it
# into your nook store as localhost/busybox, and runs it with nook run: new
# user, mount, PID, UTS, IPC and network namespaces on the FUSE union root.
#
# Usage: scripts/demo.sh [BIN_DIR]    (default: bin/, as made by make build)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$repo/bin}" && pwd)
busybox=/bin/busybox
image=localhost/busybox

die() { echo "demo: $*" >&2; exit 1; }

[ -x "$bin/nook" ] || die "no $bin/nook: run make build"
[ -x "$busybox" ] || die "no $busybox: sudo apt-get install -y busybox-static"
# A dynamically linked busybox (Debian's busybox package) cannot run in a
# rootfs without its libraries.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked: sudo apt-get install -y busybox-static"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nook-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }
show() { printf '+ %s\n' "$*"; "$@"; }

step "1. build a one-layer image from $busybox"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,dev,sys,home/user}
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
tar --numeric-owner --owner=0 --group=0 --sort=name -C "$rootfs" -cf "$work/image.tar" .
echo "image.tar: $(tar -tf "$work/image.tar" | wc -l) entries, $(du -h "$work/image.tar" | cut -f1)"

step "2. import it into your store (indexed, never unpacked)"
# An earlier demo's image goes first rather than stay behind untagged
# (unless a kept container still uses it: rmi refuses, and that is fine).
"$bin/nook" rmi "$image" >/dev/null 2>&1 || true
show "$bin/nook" import --change 'CMD ["sh"]' "$work/image.tar" "$image"
show "$bin/nook" images

step "3. run it"
show "$bin/nook" run --rm "$image" sh -c 'echo "hello from a nook container"; id; echo "hostname: $(hostname)"; ps; cat /proc/self/uid_map'

step "4. timing: 5 x nook run --rm --network none $image true"
start=$(date +%s%N)
for _ in 1 2 3 4 5; do "$bin/nook" run --rm --network none "$image" true; done
echo "$(( ($(date +%s%N) - start) / 5000000 )) ms per container, start to exit"

echo
echo "demo: done. Try a shell:  $bin/nook run -it --rm $image"
