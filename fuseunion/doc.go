// Package fuseunion serves a copy-on-write union of read-only lower layers and
// one writable upper directory over FUSE (go-fuse's fs API), with kernel
// overlayfs as the reference for its semantics. It knows nothing of images
// or containers.
//
// # Layers
//
// A lower is an indexed layer tar (package layer: lookups and attributes
// from the mapped index, data read or spliced at the
// member's offset in the tar) or a host directory. Both speak every
// whiteout form the peers write: OCI ".wh.NAME" and ".wh..wh..opq", overlayfs
// 0:0 character devices and the trusted./user.overlay.opaque xattrs.
//
// The upper is a plain directory owned by the server's user. Deletions are
// recorded as OCI whiteouts (".wh.NAME" files, ".wh..wh..opq" in opaque
// directories), so the upper is an OCI layer diff as it stands and writing
// it needs no privilege. Names the workload could use to forge a whiteout
// (".wh." prefixes, 0:0 character devices) are refused with EPERM, as
// overlayfs refuses 0:0 devices; names over 255 bytes get ENAMETOOLONG.
//
// # Ownership
//
// The server never chowns host files. What the host file cannot hold (the
// container-side owner, setuid/setgid/sticky bits, modes that would lock the
// server out, device type and number, xattrs of every namespace including
// security.capability) lives in a journal in the work directory, keyed by
// the upper file's host inode number (see metaStore): hard links share it,
// renames keep it, and it works on tmpfs, ext4, xfs and NFS alike — also on
// symlinks, which cannot carry user xattrs. An upper entry without a record
// shows its host attributes, so an upper written by others still reads
// sensibly. Lower entries show what the layer says. The SELinux label is
// the one xattr the union does not carry (see isUnservedXattr).
//
// # Resolution
//
// Each node caches what its name resolves to (an upper entry, the merged
// lower entries) and recomputes it from its parent when the union's
// generation counter moved, which only operations that change many paths at
// once do (a merged directory's rename, a hard-link group's copy-up).
// Upper paths are resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS),
// a chunk of components at a time, so nothing the workload writes can
// redirect the server outside the upper and trees deeper than PATH_MAX work.
//
// # Copy-up and rename
//
// Copy-up happens on open for write, truncate, chmod, chown, utimes,
// xattr changes and link, parents first, in the work directory, then
// renamed into place. A hard-linked lower file brings all the names of its
// link group that the union still shows, so they keep one inode; inode
// numbers are assigned at first sight and kept across copy-up for the life
// of the mount. Renaming a directory that merges lower content copies the
// directory's whole visible tree up once and makes it opaque, instead of
// overlayfs's EXDEV or its redirect xattrs; the upper stays a plain layer
// diff at the price of one copy of that tree.
//
// # Caching
//
// Only the union changes what it shows, so the kernel may keep entries,
// attributes, negative lookups, directory listings (FOPEN_CACHE_DIR),
// symlink targets and file pages (FOPEN_KEEP_CACHE) for an hour; the
// writeback cache is on for writable unions, and requests are up to 1 MiB.
// OPENDIR answers ENOSYS so the kernel caches listings without OPENDIR and
// RELEASEDIR round trips (see noOpendir); FLUSH answers ENOSYS unless the
// upper is on a network filesystem, which can fail a close (see
// fewerRoundTrips), so closing a file costs no round trip.
// File locks are left to the kernel, which handles flock, POSIX and OFD
// locks locally for a FUSE server that does not claim them.
package fuseunion
