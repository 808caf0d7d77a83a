package fuseunion

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

var (
	_ = (fs.NodeUnlinker)((*node)(nil))
	_ = (fs.NodeRmdirer)((*node)(nil))
	_ = (fs.NodeOnForgetter)((*node)(nil))
)

// childState resolves name in n for an operation on it.
func (n *node) childState(name string) (nstate, nstate, syscall.Errno) {
	ps, errno := n.state()
	if errno != 0 {
		return ps, nstate{}, errno
	}
	if ps.kind != kindDir {
		return ps, nstate{}, syscall.ENOTDIR
	}
	s, errno := n.u.lookupIn(n.path(), &ps, name)
	return ps, s, errno
}

// Unlink implements fs.NodeUnlinker. A name a lower shows gets a whiteout
// first, then the upper entry goes: a crash in between leaves the upper
// entry, which wins over its own whiteout.
func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	u := n.u
	if u.readonly() {
		return syscall.EROFS
	}
	_, s, errno := n.childState(name)
	if errno != 0 {
		return errno
	}
	if s.kind == kindDir {
		return syscall.EISDIR
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return errno
	}
	path := joinPath(n.path(), name)
	if s.lowerHasName {
		if errno := u.whiteout(n.path(), name); errno != 0 {
			return errno
		}
	}
	if !s.upper {
		return 0
	}
	a, err := beneath(u.upper, path)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer a.close()
	var st unix.Stat_t
	if err := unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fs.ToErrno(err)
	}
	if err := unix.Unlinkat(a.fd, a.name, 0); err != nil {
		return fs.ToErrno(err)
	}
	if st.Nlink <= 1 {
		u.forgetUpper(n.GetChild(name), st.Ino)
	}
	return 0
}

// forgetUpper drops the meta of an upper file whose last name is gone, at
// once or, while it is still open, at its last release.
func (u *union) forgetUpper(child *fs.Inode, hostIno uint64) {
	if child != nil {
		cn := child.Operations().(*node)
		cn.mu.Lock()
		open := cn.opens > 0
		if open {
			cn.dropMeta = hostIno
		}
		cn.mu.Unlock()
		if open {
			return
		}
	}
	u.metas.del(hostIno)
}

// whiteout records in the upper directory dir that name is deleted.
func (u *union) whiteout(dir, name string) syscall.Errno {
	if len(name)+len(whiteoutPrefix) > maxNameLen {
		// No room for ".wh.": an overlayfs whiteout needs no prefix,
		// but only a server with CAP_MKNOD in its namespace can make one.
		a, err := beneath(u.upper, joinPath(dir, name))
		if err != nil {
			return fs.ToErrno(err)
		}
		defer a.close()
		tmp := u.tmpName()
		if err := unix.Mknodat(u.work, tmp, unix.S_IFCHR, 0); err != nil {
			return syscall.ENAMETOOLONG
		}
		return fs.ToErrno(unix.Renameat(u.work, tmp, a.fd, a.name))
	}
	return u.createMarker(joinPath(dir, whiteoutName(name)))
}

// createMarker creates an empty marker file (a whiteout, the opaque
// marker) at an upper path, if it is not there yet.
func (u *union) createMarker(path string) syscall.Errno {
	a, err := beneath(u.upper, path)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer a.close()
	fd, err := unix.Openat(a.fd, a.name, unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fs.ToErrno(err)
	}
	unix.Close(fd)
	return 0
}

// Rmdir implements fs.NodeRmdirer. Emptiness is checked across layers.
func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	u := n.u
	if u.readonly() {
		return syscall.EROFS
	}
	_, s, errno := n.childState(name)
	if errno != 0 {
		return errno
	}
	if s.kind != kindDir {
		return syscall.ENOTDIR
	}
	path := joinPath(n.path(), name)
	empty, errno := u.dirEmpty(path, &s)
	if errno != 0 {
		return errno
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return errno
	}
	if s.lowerHasName {
		if errno := u.whiteout(n.path(), name); errno != 0 {
			return errno
		}
	}
	if s.upper {
		if errno := u.removeUpperTree(path); errno != 0 {
			return errno
		}
	}
	return 0
}

// dirEmpty reports whether a directory shows no entries in the union.
func (u *union) dirEmpty(path string, s *nstate) (bool, syscall.Errno) {
	empty := true
	errno := u.listDir(path, s, func(name string, k kind, ino uint64) bool {
		empty = false
		return false
	})
	return empty, errno
}

// removeUpperTree removes an upper directory that the union shows as
// empty: whatever it still holds are whiteouts and markers.
func (u *union) removeUpperTree(path string) syscall.Errno {
	dfd, err := openDirBeneath(u.upper, path)
	if err != nil {
		return fs.ToErrno(err)
	}
	rfd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	unix.Close(dfd)
	if err != nil {
		return fs.ToErrno(err)
	}
	err = emptyDir(rfd)
	unix.Close(rfd)
	if err != nil {
		return fs.ToErrno(err)
	}
	a, err := beneath(u.upper, path)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer a.close()
	return fs.ToErrno(unix.Unlinkat(a.fd, a.name, unix.AT_REMOVEDIR))
}

// emptyDir removes every entry of an open directory that holds only files
// (whiteouts and markers).
func emptyDir(fd int) error {
	var names []string
	if err := readDirents(fd, func(name string, typ uint8, ino uint64) { names = append(names, name) }); err != nil {
		return err
	}
	for _, name := range names {
		if err := unix.Unlinkat(fd, name, 0); err != nil && err != unix.ENOENT {
			return err
		}
	}
	return nil
}

// OnForget closes an O_TMPFILE node's file when the kernel drops it.
func (n *node) OnForget() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tmpfd >= 0 {
		unix.Close(n.tmpfd)
		n.tmpfd = -1
	}
}
