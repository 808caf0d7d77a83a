// Package fsinfo tells which filesystem a path is on, whether that is a
// network filesystem, and where container upper directories go when nook's
// store is on one (DESIGN.md, "Storage").
//
// The store itself is fine on NFS, Lustre or GPFS: it is one tar and one
// index per layer, written once and read with pread. A container's upper
// directory is not: it takes many small writes, renames and xattrs, and
// these filesystems are slow at them, lose or refuse xattrs, or give
// locking and rename semantics the union filesystem does not expect. So
// when the store is on a network filesystem, uppers go to node-local
// storage: /var/tmp/nook-UID when /var/tmp is local and writable, else the
// runtime directory (package runtimedir).
//
// The filesystem is named from statfs's f_type magic number (linux/magic.h,
// statfs(2), and the vendors' numbers for Lustre, GPFS, BeeGFS, Panasas).
// A FUSE filesystem says nothing about itself in its magic, so the mount
// table's "fuse.SUBTYPE" is read for it: sshfs, s3fs, gcsfuse, glusterfs,
// ceph-fuse and the like are network filesystems too.
package fsinfo
