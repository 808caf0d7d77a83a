package fuseunion

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

var _ = (fs.NodeRenamer)((*node)(nil))

// Rename implements fs.NodeRenamer, for files and directories alike.
//
// The moved entry is made a plain upper entry first. A directory that
// merges lower content is copied up whole (every entry the union shows
// under it) and made opaque, so it can move anywhere without EXDEV and
// without overlayfs's redirect xattrs; that costs a copy of the tree, once,
// and keeps the upper a plain OCI layer diff. The old name gets a whiteout
// when a lower shows it; a directory landing where a lower has the name is
// made opaque. RENAME_NOREPLACE and RENAME_EXCHANGE are checked against the
// union, then done by renameat2 in the upper.
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	u := n.u
	if u.readonly() {
		return syscall.EROFS
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	if flags&^uint32(unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE) != 0 ||
		flags == unix.RENAME_NOREPLACE|unix.RENAME_EXCHANGE {
		return syscall.EINVAL
	}
	exchange := flags&unix.RENAME_EXCHANGE != 0
	if err := validName(newName); err != nil {
		return fs.ToErrno(err)
	}
	u.renameMu.Lock()
	defer u.renameMu.Unlock()

	_, s, errno := n.childState(name)
	if errno != 0 {
		return errno
	}
	_, ds, derrno := np.childState(newName)
	if derrno != 0 && derrno != syscall.ENOENT {
		return derrno
	}
	dstExists := derrno == 0
	src, dst := n.GetChild(name), np.GetChild(newName)
	switch {
	case flags&unix.RENAME_NOREPLACE != 0 && dstExists:
		return syscall.EEXIST
	case exchange && !dstExists:
		return syscall.ENOENT
	case dstExists && src != nil && src == dst:
		return 0 // two names of one file: rename(2) does nothing
	case !exchange && dstExists && s.kind == kindDir && ds.kind != kindDir:
		return syscall.ENOTDIR
	case !exchange && dstExists && s.kind != kindDir && ds.kind == kindDir:
		return syscall.EISDIR
	}
	srcPath, dstPath := joinPath(n.path(), name), joinPath(np.path(), newName)
	if !exchange && dstExists && ds.kind == kindDir {
		empty, errno := u.dirEmpty(dstPath, &ds)
		if errno != 0 {
			return errno
		}
		if !empty {
			return syscall.ENOTEMPTY
		}
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return errno
	}
	if errno := u.copyUp(np, true); errno != 0 {
		return errno
	}
	if errno := u.makePureUpper(src, srcPath, &s); errno != 0 {
		return errno
	}
	dstWhiteout := u.upperHasWhiteout(np.path(), newName) || u.upperHasCharWhiteout(dstPath)
	if exchange {
		if errno := u.makePureUpper(dst, dstPath, &ds); errno != 0 {
			return errno
		}
		if errno := u.opaqueIfHidden(dstPath, &ds, s.lowerHasName); errno != 0 {
			return errno
		}
	}
	if errno := u.opaqueIfHidden(srcPath, &s, ds.lowerHasName || dstWhiteout); errno != 0 {
		return errno
	}
	a, err := beneath(u.upper, srcPath)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer a.close()
	b, err := beneath(u.upper, dstPath)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer b.close()

	var parked string
	if !exchange && dstExists && ds.upper && ds.kind == kindDir {
		// The upper directory being replaced still holds whiteouts;
		// park it in the work dir so renameat can replace the name.
		parked = u.tmpName()
		if err := unix.Renameat(b.fd, b.name, u.work, parked); err != nil {
			return fs.ToErrno(err)
		}
	} else if !exchange && dstWhiteout && u.upperHasCharWhiteout(dstPath) {
		unix.Unlinkat(b.fd, b.name, 0)
	}
	var replaced unix.Stat_t
	replacedOK := !exchange && dstExists && ds.upper && ds.kind != kindDir &&
		unix.Fstatat(b.fd, b.name, &replaced, unix.AT_SYMLINK_NOFOLLOW) == nil
	if err := unix.Renameat2(a.fd, a.name, b.fd, b.name, uint(flags)); err != nil {
		if parked != "" {
			unix.Renameat(u.work, parked, b.fd, b.name)
		}
		return fs.ToErrno(err)
	}
	if parked != "" {
		u.removeWorkTree(parked)
	}
	if replacedOK && replaced.Nlink <= 1 {
		u.forgetUpper(dst, replaced.Ino)
	}
	if !exchange && s.lowerHasName {
		if errno := u.whiteout(n.path(), name); errno != 0 {
			return errno
		}
	}
	if dstWhiteout {
		if errno := u.dropWhiteout(np.path(), dstPath); errno != 0 {
			return errno
		}
	}
	g := u.gen.Load()
	if src != nil {
		sn := src.Operations().(*node)
		sn.setState(nstate{kind: s.kind, upper: true, lowerHasName: ds.lowerHasName || dstWhiteout || (exchange && ds.lowerHasName)}, g)
	}
	if exchange && dst != nil {
		dn := dst.Operations().(*node)
		dn.setState(nstate{kind: ds.kind, upper: true, lowerHasName: s.lowerHasName}, g)
	}
	return 0
}

// makePureUpper puts an entry wholly in the upper: a file is copied up, a
// directory merging lower content is copied up with everything under it.
func (u *union) makePureUpper(child *fs.Inode, path string, s *nstate) syscall.Errno {
	if s.kind == kindDir && len(s.lowers) > 0 {
		if err := u.copyUpTree(path, s); err != nil {
			return fs.ToErrno(err)
		}
		restore := u.keepTimes(path)
		errno := u.markOpaque(path)
		restore()
		if errno != 0 {
			return errno
		}
		u.gen.Add(1) // every node under it now lives in the upper only
		if child != nil {
			invalidateDirAttrs(child)
		}
		s.upper, s.lowers = true, nil
		return 0
	}
	if s.upper {
		return 0
	}
	if child != nil {
		if errno := u.copyUp(child.Operations().(*node), true); errno != 0 {
			return errno
		}
	} else {
		dir, _ := splitPath(path)
		if err := u.copyUpDirPath(dir); err != nil {
			return fs.ToErrno(err)
		}
		var err error
		if s.kind == kindDir {
			err = u.copyUpDir(path, s, u.lowerIno(s.top.layer, s.le.ident))
		} else {
			err = u.copyUpFile(path, s, u.lowerIno(s.top.layer, s.le.ident), true)
		}
		if err != nil {
			return fs.ToErrno(err)
		}
	}
	s.upper, s.lowers = true, nil
	return 0
}

// invalidateDirAttrs tells the kernel to drop the cached attributes of a
// directory and the directories under it that it knows: once copied up
// whole they are no longer merged, so their link counts changed without an
// operation on them. (Offset -1 leaves the page cache alone.)
func invalidateDirAttrs(in *fs.Inode) {
	if !in.IsDir() {
		return
	}
	in.NotifyContent(-1, 0)
	for _, ch := range in.Children() {
		invalidateDirAttrs(ch)
	}
}

// opaqueIfHidden makes a moved directory opaque when it lands where a lower
// has the name, so the lower's entries stay hidden there.
func (u *union) opaqueIfHidden(path string, s *nstate, hidden bool) syscall.Errno {
	if s.kind != kindDir || !hidden {
		return 0
	}
	defer u.keepTimes(path)()
	return u.markOpaque(path)
}

func (u *union) markOpaque(path string) syscall.Errno {
	return u.createMarker(joinPath(path, opaqueMarker))
}

// copyUpTree copies a directory and every entry the union shows under it
// into the upper.
func (u *union) copyUpTree(path string, s *nstate) error {
	if !s.upper {
		if err := u.copyUpDirPath(path); err != nil {
			return err
		}
		s.upper = true
	}
	// Filling the copy is not a change of the directory.
	defer u.keepTimes(path)()
	var names []string
	if errno := u.listDir(path, s, func(name string, k kind, ino uint64) bool {
		names = append(names, name)
		return true
	}); errno != 0 {
		return errno
	}
	for _, name := range names {
		cs, errno := u.lookupIn(path, s, name)
		if errno != 0 {
			return errno
		}
		p := joinPath(path, name)
		if cs.kind == kindDir {
			if err := u.copyUpTree(p, &cs); err != nil {
				return err
			}
			continue
		}
		if cs.upper {
			continue
		}
		if err := u.copyUpFile(p, &cs, u.lowerIno(cs.top.layer, cs.le.ident), true); err != nil {
			return err
		}
	}
	return nil
}

// removeWorkTree deletes a parked upper directory (whiteouts only) from
// the work dir.
func (u *union) removeWorkTree(name string) {
	fd, err := unix.Openat(u.work, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	emptyDir(fd)
	unix.Close(fd)
	unix.Unlinkat(u.work, name, unix.AT_REMOVEDIR)
}
