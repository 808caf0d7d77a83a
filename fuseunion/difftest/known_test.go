package difftest

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// The deliberate differences between kernel overlayfs and nook, encoded
// here so that the comparison holds everything else to the kernel:
//
//  1. Kernel overlayfs mounted with userxattr cannot use redirect_dir, so
//     renaming a directory that has a lower part fails with EXDEV (mv(1)
//     then copies). nook renames it. On EXDEV the reference applies mv's
//     copy-and-remove (emulateRename) and the trees are compared after.
//  2. With index=off (forced by userxattr) the kernel breaks a hardlink when
//     one of its names is copied up, and keeps showing the lower nlink after
//     one name is unlinked. nook keeps the group's identity. So identity and
//     nlink are compared only for link groups the kernel has not yet touched
//     (taint), and for those names only the type is compared; nook's
//     stronger behaviour is asserted in TestNookHardlink* and by
//     selfConsistent. The same holds for a new link to any file that came
//     from a lower layer, even after its copy-up: the kernel shows the old
//     name with the lower st_ino and the new one with the upper st_ino.
//     A rename between two names of one such group is a successful no-op on
//     nook (POSIX: same inode) but a real rename on the kernel, whose
//     names are separate inodes underneath; the generator does not make
//     those (sameFile), TestNookHardlinkRenameOntoItself asserts nook's.
//  3. Names starting with ".wh." and 0:0 character devices: nook refuses
//     them with EPERM, because its upper uses OCI whiteouts. The generator
//     never makes them; TestNookRefusesWhiteoutNames asserts the EPERM.
//  4. A rename that fails with ENOTEMPTY still sets its parent's mtime on
//     the kernel when the upper is ext4: overlayfs renames with
//     RENAME_WHITEOUT when a lower layer has the old name, and ext4's
//     error path for that updates the directory (plain ext4 does the same;
//     tmpfs does not). The reference's parent times are put back after a
//     failed rename (parentTimes).
//  5. A whiteout in a directory that only one layer has (or in an opaque
//     one) is listed by the kernel's readdir, as a name lookup denies:
//     overlayfs filters whiteouts only in merged directories. nook hides
//     every whiteout; fixtures avoid the kernel's case (whiteoutListed),
//     TestNookHidesStrayWhiteouts asserts nook's.
//  6. truncate(2) by path to a regular file's current size sets its mtime
//     on ext4 and tmpfs, so on the kernel. nook runs with FUSE's writeback
//     cache, under which the kernel keeps file times itself; its path
//     truncate passes no time change to the filesystem, so a same-size
//     truncate leaves mtime as it was (ftruncate, O_TRUNC and writes do
//     update it). The writeback cache is worth more than this corner: the
//     reference's mtime is put back after a same-size truncate
//     (sameSizeTruncate).

// isDir reports whether p is a directory in the union at root.
func isDir(root, p string) bool {
	var st unix.Stat_t
	return unix.Lstat(join(root, p), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// exdevRename reports whether the kernel refused o only for the reason of
// difference 1: a rename involving a directory answered with EXDEV.
func exdevRename(root string, o op, res result) bool {
	if o.Kind != "rename" || res.Errno != unix.EXDEV || o.P == "" || o.Q == "" {
		return false // the root is the mount point: EXDEV from the VFS
	}
	return isDir(root, o.P) || o.Flags == "exchange" && isDir(root, o.Q)
}

// emulateRename gives o rename(2) semantics on the reference by copying and
// removing, as mv(1) does across filesystems.
func emulateRename(root string, o op) (result, error) {
	src, dst := join(root, o.P), join(root, o.Q)
	if o.Flags == "exchange" {
		tmp := join(root, path.Join(parentOf(o.P), ".difftest-exchange"))
		for _, step := range [][2]string{{src, tmp}, {dst, src}, {tmp, dst}} {
			if err := copyTree(step[0], step[1]); err != nil {
				return result{}, err
			}
			if err := os.RemoveAll(step[0]); err != nil {
				return result{}, fmt.Errorf("emulate rename: remove %s: %w", step[0], err)
			}
		}
		return result{}, nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(dst, &st); err == nil {
		// The VFS has already checked the types match and NOREPLACE; what
		// is left for the filesystem is the emptiness of a target dir.
		ents, err := os.ReadDir(dst)
		if err != nil {
			return result{}, fmt.Errorf("emulate rename: read target: %w", err)
		}
		if len(ents) > 0 {
			return result{Errno: unix.ENOTEMPTY}, nil
		}
		if err := unix.Rmdir(dst); err != nil {
			return result{}, fmt.Errorf("emulate rename: remove empty target: %w", err)
		}
	}
	if err := copyTree(src, dst); err != nil {
		return result{}, err
	}
	if err := os.RemoveAll(src); err != nil {
		return result{}, fmt.Errorf("emulate rename: remove source: %w", err)
	}
	return result{}, nil
}

// copyTree copies src to the new path dst keeping types, contents, modes,
// owners, user xattrs, mtimes and the hardlinks within the tree.
func copyTree(src, dst string) error {
	links := map[ident]string{}
	var walk func(s, d string) error
	walk = func(s, d string) error {
		var st unix.Stat_t
		if err := unix.Lstat(s, &st); err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := unix.Mkdir(d, 0o700); err != nil {
				return err
			}
			ents, err := os.ReadDir(s)
			if err != nil {
				return err
			}
			for _, e := range ents {
				if err := walk(path.Join(s, e.Name()), path.Join(d, e.Name())); err != nil {
					return err
				}
			}
		case unix.S_IFREG:
			id := ident{st.Dev, st.Ino}
			if first, ok := links[id]; ok {
				return os.Link(first, d)
			}
			links[id] = d
			b, err := os.ReadFile(s)
			if err != nil {
				return err
			}
			if err := os.WriteFile(d, b, 0o600); err != nil {
				return err
			}
		case unix.S_IFLNK:
			t, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(t, d); err != nil {
				return err
			}
		case unix.S_IFIFO:
			if err := unix.Mkfifo(d, 0o600); err != nil {
				return err
			}
		default:
			return fmt.Errorf("cannot copy %s: type %#o", s, st.Mode&unix.S_IFMT)
		}
		return copyMeta(s, d, &st)
	}
	if err := walk(src, dst); err != nil {
		return fmt.Errorf("emulate rename: copy %s to %s: %w", src, dst, err)
	}
	return nil
}

func copyMeta(s, d string, st *unix.Stat_t) error {
	names, err := listXattrs(s)
	if err != nil {
		return err
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "user.") {
			continue
		}
		v, err := getXattr(s, n)
		if err != nil {
			return err
		}
		if err := unix.Lsetxattr(d, n, []byte(v), 0); err != nil {
			return err
		}
	}
	if err := unix.Lchown(d, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Chmod(d, st.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(unix.AT_FDCWD, d, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// sameSizeTruncate returns the mtime of o's file when o truncates a
// regular file to its current size (difference 6), and false otherwise.
func sameSizeTruncate(root string, o op) (unix.Timespec, bool) {
	if o.Kind != "truncate" {
		return unix.Timespec{}, false
	}
	var st unix.Stat_t
	if unix.Stat(join(root, o.P), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != o.Off {
		return unix.Timespec{}, false
	}
	return st.Mtim, true
}

// parentTimes records the mtimes of the parent dirs of a rename's paths.
func parentTimes(root string, o op) map[string]unix.Timespec {
	if o.Kind != "rename" {
		return nil
	}
	out := map[string]unix.Timespec{}
	for _, p := range []string{o.P, o.Q} {
		d := parentOf(p)
		var st unix.Stat_t
		if unix.Lstat(join(root, d), &st) == nil {
			out[d] = st.Mtim
		}
	}
	return out
}

// restoreTimes puts back parent mtimes a failed rename changed
// (difference 4).
func restoreTimes(root string, before map[string]unix.Timespec) error {
	for d, mt := range before {
		var st unix.Stat_t
		if unix.Lstat(join(root, d), &st) != nil || st.Mtim == mt {
			continue
		}
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mt}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, join(root, d), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("restore mtime of %q after a failed rename: %w", d, err)
		}
	}
	return nil
}

// mutates lists the paths an op may change (and so copy up) on the kernel.
func mutates(o op) []string {
	switch o.Kind {
	case "read", "readdir", "stat", "readlink", "getxattr", "listxattr", "mkdir", "rmdir", "symlink", "mkfifo", "mknod":
		return nil
	case "rename":
		return []string{o.P, o.Q}
	}
	return []string{o.P}
}

// identsAt returns the identity of every path of ps that exists under root.
func identsAt(root string, ps []string) map[string]ident {
	out := map[string]ident{}
	for _, p := range ps {
		var st unix.Stat_t
		if unix.Lstat(join(root, p), &st) == nil {
			out[p] = ident{st.Dev, st.Ino}
		}
	}
	return out
}

// identWalk maps every non-directory under root to its identity.
func identWalk(root string) (map[string]ident, error) {
	out := map[string]ident{}
	var walk func(rel string) error
	walk = func(rel string) error {
		var st unix.Stat_t
		if err := unix.Lstat(join(root, rel), &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			out[rel] = ident{st.Dev, st.Ino}
			return nil
		}
		ents, err := os.ReadDir(join(root, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := walk(path.Join(rel, e.Name())); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, fmt.Errorf("walk identities: %w", err)
	}
	return out, nil
}

// lowerOnly reports whether p, visible in the kernel union, comes from a
// lower layer (nothing for it in the upper dir).
func lowerOnly(upper, p string) bool {
	var st unix.Stat_t
	err := unix.Lstat(join(upper, p), &st)
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// sameFile reports whether o renames between two names of one inode on
// the reference or on any candidate. Such a rename is a successful no-op
// (POSIX); where nook keeps a hardlink group the kernel has split (or the
// other way round) one side renames and the other does nothing.
func (r *runner) sameFile(o op) bool {
	if o.Kind != "rename" || isDir(r.ref.root, o.P) || isDir(r.ref.root, o.Q) {
		return false
	}
	for _, m := range append([]*mount{r.ref}, r.cands...) {
		ids := identsAt(m.root, []string{o.P, o.Q})
		a, okA := ids[o.P]
		b, okB := ids[o.Q]
		if okA && okB && a == b {
			return true
		}
	}
	return false
}

// groupsTouched returns the reference paths whose identity the kernel may
// stop reporting faithfully because of o (difference 2): every name of a
// lower hardlink group one of whose names o mutates, and, when all is
// true, every name of any hardlink group with a name inside the
// directories o moves (the mv emulation copies them).
// created holds the identities of files the ops made in the upper layer.
func groupsTouched(ref *mount, o op, moved []string, created map[ident]bool) ([]string, error) {
	var seeds []string
	for _, p := range mutates(o) {
		var st unix.Stat_t
		if unix.Lstat(join(ref.root, p), &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue
		}
		switch {
		case st.Nlink > 1 && lowerOnly(ref.upper, p):
			seeds = append(seeds, p)
		case o.Kind == "link" && !created[ident{st.Dev, st.Ino}]:
			// A new name for a file that came from a lower layer: the
			// kernel keeps reporting the lower st_ino for the old name
			// and the upper one for the new name.
			seeds = append(seeds, p)
		}
	}
	if len(seeds) == 0 && len(moved) == 0 {
		return nil, nil
	}
	all, err := identWalk(ref.root)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	for p := range all {
		for _, m := range moved {
			if (p == m || strings.HasPrefix(p, m+"/")) && unix.Lstat(join(ref.root, p), &st) == nil && st.Nlink > 1 {
				seeds = append(seeds, p)
			}
		}
	}
	want := map[ident]bool{}
	for _, p := range seeds {
		want[all[p]] = true
	}
	var out []string
	for p, id := range all {
		if want[id] {
			out = append(out, p)
		}
	}
	return out, nil
}

// renamed maps a path as it was before o to where it is after o.
func renamed(o op, p string) string {
	if o.Kind != "rename" {
		return p
	}
	move := func(from, to string) (string, bool) {
		if p == from {
			return to, true
		}
		if strings.HasPrefix(p, from+"/") {
			return to + strings.TrimPrefix(p, from), true
		}
		return "", false
	}
	if q, ok := move(o.P, o.Q); ok {
		return q
	}
	if o.Flags == "exchange" {
		if q, ok := move(o.Q, o.P); ok {
			return q
		}
	}
	return p
}
