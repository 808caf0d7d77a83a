#!/bin/sh
# Regenerates the GNU tar seed archives (fuzz seeds and fixed-input tests).
# Run from this directory: sh make-seeds.sh
set -eu
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
# A sparse file: data at 0, 8 KiB and its last 100 bytes, holes between.
truncate -s 65536 "$src/sparse"
printf 'head' | dd of="$src/sparse" conv=notrunc status=none
printf 'middle' | dd of="$src/sparse" bs=1 seek=8192 conv=notrunc status=none
head -c 100 /dev/zero | tr '\0' 'z' | dd of="$src/sparse" bs=1 seek=65436 conv=notrunc status=none
# Six fragments: more than the old GNU header's four.
truncate -s 49152 "$src/frags"
for i in 0 1 2 3 4 5; do
	printf "frag$i" | dd of="$src/frags" bs=1 seek=$((i * 8192)) conv=notrunc status=none
done
mkdir "$src/dir"
printf 'plain\n' > "$src/dir/file"
ln "$src/dir/file" "$src/dir/hardlink"
ln -s file "$src/dir/symlink"
long=dir/$(printf 'x%.0s' $(seq 1 120))
printf 'long\n' > "$src/$long"
common="-b 1 --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -C $src"
tar $common --format=gnu --sparse -cf sparse-gnu.tar sparse frags dir
for v in 0.0 0.1 1.0; do
	tar $common --format=posix --pax-option=delete=atime,delete=ctime --sparse-version=$v \
		-cf sparse-posix-$v.tar sparse frags dir
done
