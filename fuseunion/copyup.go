package fuseunion

import (
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

// Copy-up puts a lower entry into the upper before its first change. Parents
// go first. A file is built in the work directory (copy_file_range from a
// lower file, pread/pwrite from a layer tar: see copyRange; holes kept) and
// renamed into place, so a crash never leaves a half-copied file visible.
// A directory's copy-up copies its metadata, not its children. A
// hard-linked file brings every name of its link group that the union still
// shows from the same lower, so the names keep one identity (st_ino, st_nlink), which kernel overlayfs without
// index=on does not do.

// hostFileMode is the mode an upper file gets on the host: the container's
// permission bits plus what the server needs to keep access; the rest lives
// in the meta store.
func hostFileMode(perm uint32) uint32 { return perm&0o777 | 0o600 }
func hostDirMode(perm uint32) uint32  { return perm&0o777 | 0o700 }

// copyUp makes n exist in the upper; data=false skips a file's content
// (for an open with O_TRUNC).
func (u *union) copyUp(n *node, data bool) syscall.Errno {
	if u.readonly() {
		return syscall.EROFS
	}
	s, errno := n.state()
	if errno != 0 {
		return errno
	}
	if s.upper {
		return 0
	}
	p := n.parentNode()
	if p == nil {
		return syscall.ESTALE // unlinked lower file: nothing to copy into
	}
	if errno := u.copyUp(p, true); errno != 0 {
		return errno
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.st.upper {
		return 0
	}
	path := n.path()
	ino := n.StableAttr().Ino
	var err error
	if s.kind == kindDir {
		err = u.copyUpDir(path, &s, ino)
	} else {
		err = u.copyUpFile(path, &s, ino, data)
	}
	if err != nil {
		return fs.ToErrno(err)
	}
	n.st.upper = true
	if s.kind != kindDir {
		n.st.lowers = nil
	}
	return 0
}

// keepParentTimes records the times of path's upper parent and returns a
// function that puts them back: a copy-up is not a change of the parent
// (overlayfs restores them too).
func (u *union) keepParentTimes(path string) func() {
	dir, _ := splitPath(path)
	return u.keepTimes(dir)
}

// keepTimes records the times of upper directory dir and returns a function
// that puts them back.
func (u *union) keepTimes(dir string) func() {
	st, err := u.upperStat(dir)
	if err != nil {
		return func() {}
	}
	return func() {
		ts := []unix.Timespec{st.Atim, st.Mtim}
		if dir == "" {
			unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(u.upper), ts, 0)
			return
		}
		if a, err := beneath(u.upper, dir); err == nil {
			unix.UtimesNanoAt(a.fd, a.name, ts, unix.AT_SYMLINK_NOFOLLOW)
			a.close()
		}
	}
}

// copyUpDir creates directory path in the upper with its lower metadata.
func (u *union) copyUpDir(path string, s *nstate, ino uint64) error {
	a, err := beneath(u.upper, path)
	if err != nil {
		return err
	}
	defer a.close()
	defer u.keepParentTimes(path)()
	le := &s.le
	if err := unix.Mkdirat(a.fd, a.name, hostDirMode(le.mode)); err != nil && err != unix.EEXIST {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return unix.EEXIST
	}
	xa, err := u.lowerXattrs(s)
	if err != nil {
		return err
	}
	if err := u.recordMeta(&st, meta{Uid: le.uid, Gid: le.gid, Mode: unix.S_IFDIR | le.mode, Xattrs: xa}); err != nil {
		return err
	}
	ts := []unix.Timespec{le.atime, le.mtime}
	if err := unix.UtimesNanoAt(a.fd, a.name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	u.bindUpperIno(st.Ino, ino)
	return nil
}

// copyUpFile copies a non-directory into the upper through the work dir.
func (u *union) copyUpFile(path string, s *nstate, ino uint64, data bool) (err error) {
	le := &s.le
	lr := s.top
	l := u.lowers[lr.layer]
	if data && le.size > 0 && u.spareReader != nil {
		u.spareReader() // copying the data may take long
	}
	tmp := u.tmpName()
	defer func() {
		if err != nil {
			unix.Unlinkat(u.work, tmp, 0)
		}
	}()
	if err := u.buildCopy(tmp, l, lr.ref, le, data); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstatat(u.work, tmp, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	xa, err := u.lowerXattrs(s)
	if err != nil {
		return err
	}
	m := meta{Uid: le.uid, Gid: le.gid, Mode: le.kind.typeBits() | le.mode, Rdev: le.rdev, Xattrs: xa}
	if err := u.recordMeta(&st, m); err != nil {
		return err
	}
	a, err := beneath(u.upper, path)
	if err != nil {
		return err
	}
	defer a.close()
	defer u.keepParentTimes(path)()
	if err := unix.Renameat(u.work, tmp, a.fd, a.name); err != nil {
		return err
	}
	u.bindUpperIno(st.Ino, ino)
	if le.nlink > 1 {
		return u.copyUpLinks(path, lr, le, a)
	}
	return nil
}

// buildCopy creates the copy of a lower entry as tmp in the work dir.
func (u *union) buildCopy(tmp string, l Lower, ref lref, le *lentry, data bool) error {
	switch le.kind {
	case kindSymlink:
		target, err := l.readlink(ref)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(target, u.work, tmp); err != nil {
			return err
		}
	case kindFifo, kindSocket:
		if err := unix.Mknodat(u.work, tmp, le.kind.typeBits()|0o600, 0); err != nil {
			return err
		}
	default: // regular files, and devices stored as empty regular files
		fd, err := unix.Openat(u.work, tmp, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		if le.kind == kindReg && data {
			lf, err := l.open(ref, le)
			if err != nil {
				unix.Close(fd)
				return err
			}
			err = lf.copyTo(fd)
			lf.close()
			if err != nil {
				unix.Close(fd)
				return err
			}
		}
		err = unix.Fchmod(fd, hostFileMode(le.mode))
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	ts := []unix.Timespec{le.atime, le.mtime}
	return unix.UtimesNanoAt(u.work, tmp, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// copyUpLinks links the other names of a lower hard-link group to the
// fresh upper copy at a, where the union still shows them from that lower.
func (u *union) copyUpLinks(path string, lr layerRef, le *lentry, a at) error {
	names, err := u.lowers[lr.layer].links(lr.ref, le)
	if err != nil {
		return err
	}
	linked := false
	for _, q := range names {
		if q == path {
			continue
		}
		qs, errno := u.resolvePath(q)
		if errno != 0 || qs.upper || len(qs.lowers) == 0 || qs.top.layer != lr.layer || qs.le.ident != le.ident {
			continue
		}
		dir, _ := splitPath(q)
		if err := u.copyUpDirPath(dir); err != nil {
			return err
		}
		qa, err := beneath(u.upper, q)
		if err != nil {
			return err
		}
		restore := u.keepParentTimes(q)
		err = unix.Linkat(a.fd, a.name, qa.fd, qa.name, 0)
		restore()
		qa.close()
		if err != nil {
			return err
		}
		linked = true
	}
	if linked {
		u.gen.Add(1) // other names' nodes now resolve to the upper
	}
	return nil
}

// resolvePath resolves a union path from the root, component by component.
func (u *union) resolvePath(path string) (nstate, syscall.Errno) {
	s, errno := u.rootState()
	dir := ""
	for _, c := range strings.Split(path, "/") {
		if errno != 0 || c == "" {
			continue
		}
		if s.kind != kindDir {
			return nstate{}, syscall.ENOTDIR
		}
		s, errno = u.lookupIn(dir, &s, c)
		dir = joinPath(dir, c)
	}
	return s, errno
}

// copyUpDirPath copies up every directory along a union path.
func (u *union) copyUpDirPath(path string) error {
	s, errno := u.rootState()
	dir := ""
	for _, c := range strings.Split(path, "/") {
		if c == "" {
			continue
		}
		if errno != 0 {
			return errno
		}
		s, errno = u.lookupIn(dir, &s, c)
		dir = joinPath(dir, c)
		if errno != 0 {
			return errno
		}
		if s.kind != kindDir {
			return unix.ENOTDIR
		}
		if !s.upper {
			if err := u.copyUpDir(dir, &s, u.lowerIno(s.top.layer, s.le.ident)); err != nil {
				return err
			}
			s.upper = true
		}
	}
	return nil
}

// lowerXattrs reads every xattr of a state's topmost lower entry.
func (u *union) lowerXattrs(s *nstate) (map[string][]byte, error) {
	if len(s.lowers) == 0 {
		return nil, nil
	}
	lr := s.top
	l := u.lowers[lr.layer]
	names, err := l.listxattr(lr.ref, &s.le)
	if err != nil {
		if err == unix.ENOTSUP || err == unix.EPERM {
			return nil, nil
		}
		return nil, err
	}
	var xa map[string][]byte
	for _, name := range names {
		v, err := l.getxattr(lr.ref, &s.le, name)
		if err != nil {
			continue
		}
		if xa == nil {
			xa = map[string][]byte{}
		}
		xa[name] = v
	}
	return xa, nil
}

// recordMeta stores m for an upper entry, or drops the record when the
// host file already shows exactly m.
func (u *union) recordMeta(st *unix.Stat_t, m meta) error {
	uid, gid := u.ids.host(st)
	if m.Uid == uid && m.Gid == gid && m.Mode == st.Mode && m.Rdev == 0 && len(m.Xattrs) == 0 {
		return u.metas.del(st.Ino)
	}
	return u.metas.set(st.Ino, m)
}

// metaOf returns an upper entry's meta: its record, or what the host shows.
func (u *union) metaOf(st *unix.Stat_t) meta {
	if m, ok := u.metas.get(st.Ino); ok {
		return m
	}
	uid, gid := u.ids.host(st)
	return meta{Uid: uid, Gid: gid, Mode: st.Mode}
}
