// Package layer is nook's on-disk layer format: each image layer is kept as
// its uncompressed tar plus an index, both built in one pass while the layer
// streams in, and read back by the union filesystem, which serves lookups
// and stats from the mapped index and file data by pread from the tar.
// Nothing is unpacked; no image path ever reaches the host filesystem.
//
// # Creating
//
// Create reads a plain, gzip or zstd stream (detected by magic bytes).
// archive/tar parses it from a reader that counts the bytes it hands over
// (archive/tar never reads ahead, so the count is the offset of each
// entry's data) while a second goroutine hashes every byte pulled from the
// stream and appends it to the .tar. The DiffID is the sha256 of the whole
// uncompressed stream, trailing bytes after the end-of-archive included;
// those bytes are stored but ignored. A stream that ends inside a header or
// inside data is an error. A stream that ends cleanly at an entry boundary
// without the two zero blocks is accepted, as archive/tar and extraction
// tools accept it. Cancelling ctx stops Create at its next read.
//
// The .tar and .idx are written under temporary names in the target
// directory, synced, checked by opening them as every reader will, and
// renamed into place, the .idx last: an .idx present means a complete pair.
// On any error (a digest mismatch with WithDiffID included) the temporary
// files are removed and nothing is left behind.
//
// # What the index holds, deliberately
//
//   - Names are normalised as containerd does: path.Clean("/"+name) without
//     the leading "/", so "../../etc/x" is etc/x, "/abs/p" is abs/p and
//     "./a//b/" is a/b. "." (or "/", "..") is the root: a directory header
//     for it sets the root's attributes; any other type for it is dropped.
//     The root is synthesised 0755 root:root when the tar has no header for
//     it.
//   - Dropped and counted in Info.Dropped: a name with a component over 255
//     bytes or over 64 KiB in all, or with a NUL; a symlink whose target is
//     empty or over 4095 bytes; a uid or gid outside 0..2^32-2; device numbers
//     outside 32 bits; types that are not files (volume labels, multi-volume
//     parts, vendor types); a name under a non-directory of this layer (the
//     tar could not be extracted; symlinks in names are never followed); a
//     name with a ".wh." component that is not its last; AUFS metadata
//     (".wh..wh.*" other than the opaque marker); a whiteout that loses to a
//     real entry (below). PAX global headers are ignored without counting.
//     archive/tar itself refuses a PAX path with a NUL, which fails Create.
//   - Parent directories that have no header of their own are synthesised
//     0755 root:root with time 0 and marked Implicit: a union should take a
//     lower layer's metadata for them, as extraction onto the lower layers
//     would have kept it.
//   - Duplicates: the last entry wins, as extraction does. A directory over a
//     directory keeps the children and takes the new metadata (xattrs are
//     merged, the new ones winning); anything else replaces the old name and
//     its whole subtree.
//   - Hardlinks join their target's group: the names share one inode (Inode
//     is the group's smallest ID, Nlink counts the names, Links lists them)
//     and the same data extents. The link header's mode, owner, times and
//     xattrs apply to the whole group, as containerd and Docker extract them
//     (chown and chmod on the new name reach the shared inode). A link to a
//     missing name, to a directory, to a whiteout or to a name that appears
//     only later is dropped. A link keeps the data it was made with if its
//     target's name is later overwritten. Hardlinks to symlinks are kept. A
//     dropped entry never leaves parent directories made for it behind.
//   - Whiteouts: ".wh.NAME" becomes an entry NAME of KindWhiteout, whatever
//     the type and attributes of its header (containerd applies whiteouts by
//     name before looking at anything else);
//     ".wh..wh..opq" sets Opaque on its directory (making the directory
//     implicitly if needed) and is no entry. OCI whiteouts hide lower layers
//     only, so a whiteout and a real entry of the same name in one layer keep
//     the real entry whatever their order, and the whiteout is dropped; when
//     the real entry is a directory it becomes Opaque, since the whiteout
//     hides the lower layers' directory of that name.
//   - Modes keep the permission, setuid, setgid and sticky bits (07777).
//     Times keep nanoseconds from PAX records; Atime and Ctime are Mtime when
//     the tar has none. Xattrs come from SCHILY.xattr.* records
//     (security.capability included), sorted by name; one over the kernel's
//     limits (name over 255 bytes, value over 64 KiB) is left out.
//   - Sparse files in every GNU format (old GNU 'S' headers with extension
//     blocks, PAX 0.0, 0.1 and 1.0) keep their logical size and list only
//     their data as extents; ReadAt reads holes as zeros. archive/tar hides
//     sparse maps, so they are read again from the header bytes archive/tar
//     consumed for the entry, and must account for exactly the data stored.
//   - Limits: archive/tar refuses PAX and GNU long-name records over 1 MiB
//     (Create fails); the index refuses more than 16 M live entries
//     (implicit parents included) or data extents, failing Create with an
//     error wrapping ErrLimit. Building holds the tree in memory, about 300
//     bytes per entry, and the index takes about 140 bytes per entry.
//
// # Index layout (version 1)
//
// All integers are little-endian. The file is a 128-byte header followed by
// sections, each starting 8-byte aligned, in this order: entry records,
// extents, xattr records, link groups, strings.
//
//	header (128 bytes)
//	  0  [8]  magic "NOOKIDX\x00"
//	  8  u32  version (1)
//	 12  u32  header size (128)
//	 16  u32  entry count
//	 20  u32  entry record size (128)
//	 24  u64  tar size in bytes
//	 32  [32] sha256 of the tar (the DiffID)
//	 64  u64  offset of the entry records
//	 72  u64  offset of the extents
//	 80  u32  extent count
//	 84  u32  xattr record count
//	 88  u64  offset of the xattr records
//	 96  u64  offset of the link groups
//	104  u32  link group slots
//	108  u32  crc32c (Castagnoli) of the whole file, this field read as 0
//	112  u64  offset of the strings
//	120  u64  length of the strings
//
//	entry record (128 bytes), one per ID
//	  0 u32 parent ID        4 u32 first child ID    8 u32 child count
//	 12 u8  kind            13 u8  flags (1 opaque, 2 sparse, 4 implicit)
//	 14 u16 name length     16 u64 name offset in strings
//	 24 u32 mode            28 u32 uid              32 u32 gid
//	 36 u32 nlink           40 u32 inode (the group's smallest ID)
//	 44 u32 first slot of the link group (when nlink > 1)
//	 48 i64 size            56 i64 mtime s   64 i64 atime s   72 i64 ctime s
//	 80 u32 mtime ns        84 u32 atime ns  88 u32 ctime ns
//	 92 u32 symlink target length            96 u64 its offset in strings
//	104 u64 rdev           112 u32 first xattr record  116 u32 xattr count
//	120 u32 first extent   124 u32 extent count
//
//	extent (24 bytes): i64 logical offset, i64 offset in the tar, i64 length
//	xattr record (24 bytes): u64 name offset, u64 value offset (in strings),
//	  u32 name length, u32 value length
//	link group slot (4 bytes): u32 ID; a group's IDs are consecutive slots,
//	  ascending
//
// IDs are assigned breadth-first from the root (ID 0), each directory's
// children sorted bytewise by name: children are contiguous (readdir is a
// range scan, lookup a binary search) and every child's ID exceeds its
// parent's. Names of a hardlink group share their extents and xattrs.
//
// Open maps the index read-only and shared, so every container using a
// layer shares one copy in the page cache, and checks all of it before
// trusting any of it: magic, version, sizes, checksum, the tar's size,
// section bounds, and for every record its kind and flags, its place among
// its parent's children, sorted unique names without '/' or NUL, mode and
// time ranges, string, xattr and extent ranges, extents in order within the
// file and the tar, and hardlink groups listed exactly once. The checksum
// catches damage; the checks catch a well-sealed hostile file. After Open no
// accessor can read out of range, and every accessor also takes an
// out-of-range ID without panicking. Lookup, Children, Entry, Parent,
// Xattrs, Extents and ReadAt do not allocate.
package layer
