// Package ctrcopy is the tar side of `nook cp`: Pack archives a path, Unpack
// extracts an archive at a path, both by `docker cp`'s rules. The CLI runs
// one of them on the host and the other in a `nook __cp` process inside
// the container's mount namespace and root, as container root, with the
// archive on a pipe between them. Neither function knows which side it is
// on: both work on paths of the current root, and the container side has
// chrooted (pivot_root) into the container's before it calls them.
//
// Source rules (Pack):
//
//	SRC              archive
//	file             one entry, SRC's base name
//	dir              dir/ under its base name, recursively
//	dir/. (or /, .)  ./ and the directory's contents
//	dir/             the directory, a symlink at SRC followed
//	symlink          the link itself; with FollowLink (-L) its target,
//	                 under the link's name
//
// Info (the top name, and whether SRC is a directory) travels in a PAX
// global header at the archive's start, so the receiving side needs no
// second channel; Stat gives it without packing, and UnpackOptions.Src
// overrides it.
//
// Destination rules (Unpack), DST's own symlink followed as Docker does:
//
//	DST                         SRC file              SRC dir (SRC/. alike)
//	exists, directory           DST/NAME              DST/NAME (SRC/.: into DST)
//	exists, file                replaced              ErrCannotCopyDir
//	exists, file, ends in /     ErrNotDir             ErrNotDir
//	missing, parent exists      created as a file     created as a directory
//	missing, ends in /          ErrDirNotExist        created as a directory
//	missing, parent missing     ErrNoParent           ErrNoParent
//
// A bare tar stream (no Info, docker cp - CONTAINER:DST) goes into DST,
// which must be an existing directory.
//
// Safety: on the host side the archive comes from the container, which
// may be hostile; on the container side the destination tree may be
// changed by the container's processes while the copy runs. So every entry
// is resolved below the extraction root's fd, one component at a time with
// openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) (or openat with O_NOFOLLOW
// when openat2 is missing), and is refused when its name climbs out with
// "..", lies outside the copied object, or reaches through a symlink; an
// absolute name is made relative. Entries are created under a temporary
// name (".nookcp-*") and renamed into place, so a failed copy leaves no
// half-written file under its real name. A directory entry never replaces
// a non-directory (a symlink included) and no entry replaces a directory,
// as Docker's NoOverwriteDirNonDir. Hardlink targets obey the same rules.
// A directory's metadata is applied at the end, through an O_NOFOLLOW fd.
//
// Ownership: Pack records ids as they are on disk (container ids on the
// container side). Unpack chowns only when asked: Chown gives every entry
// fixed ids (Docker makes files copied into a container root's),
// KeepOwners the archive's ids (docker cp -a); with neither it never calls
// chown, so the host side works as an unprivileged user and files become
// theirs.
//
// Not kept: extended attributes (file capabilities, ACLs), atimes (an
// archive's atime, if any, is applied), sockets (skipped, reported to
// OnSkip). Device nodes are created only where the caller may (never in a
// user namespace); else skipped and reported to OnSkip.
package ctrcopy
