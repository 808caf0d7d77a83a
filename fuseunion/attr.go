package fuseunion

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var _ = (fs.NodeSetattrer)((*node)(nil))

// Getattr implements fs.NodeGetattrer.
func (n *node) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if uf, ok := fh.(*upperFile); ok {
		return uf.Getattr(ctx, out)
	}
	ino := n.StableAttr().Ino
	if n.tmpfd >= 0 {
		return n.u.fdAttr(n.tmpfd, ino, &out.Attr)
	}
	s, errno := n.state()
	if errno != 0 {
		return errno
	}
	orphan := !n.IsRoot() && n.parentNode() == nil
	if s.upper && !orphan {
		st, err := n.u.upperStat(n.path())
		if err != nil {
			return fs.ToErrno(err)
		}
		n.u.fillUpperAttr(&st, ino, &out.Attr)
		s.fixDirNlink(&out.Attr)
		return 0
	}
	if len(s.lowers) == 0 {
		return syscall.ESTALE
	}
	n.u.fillLowerAttr(&s.le, ino, &out.Attr)
	s.fixDirNlink(&out.Attr)
	if orphan {
		out.Nlink = 0 // unlinked but still open, as on any local filesystem
	}
	return 0
}

// fdAttr fills out from an open upper file.
func (u *union) fdAttr(fd int, ino uint64, out *fuse.Attr) syscall.Errno {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	u.fillUpperAttr(&st, ino, out)
	return 0
}

// Setattr implements fs.NodeSetattrer: truncate, chmod, chown and utimes
// copy the entry up, then change the upper file or its meta.
func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	u := n.u
	if u.readonly() {
		return syscall.EROFS
	}
	// With an open upper file (also an unlinked one), work on its fd.
	fd := -1
	if uf, ok := fh.(*upperFile); ok {
		fd = uf.fd
	} else if n.tmpfd >= 0 {
		fd = n.tmpfd
	}
	if fd < 0 && !n.IsRoot() && n.parentNode() == nil && in.Valid&^timesOnly == 0 {
		// A removed file nobody has open any more (an open upper file
		// keeps tmpfd, handled above), or a lower file a rename replaced
		// but still open: with the writeback cache the kernel writes back
		// the times it cached for it when it is closed or evicted (apt's
		// extended_states, tar removing a half-written file, syncfs).
		// Nothing holds those times any more; the close or sync must not
		// fail.
		return n.orphanTimes(ctx, fh, in, out)
	}
	if fd < 0 {
		size, hasSize := in.GetSize()
		if errno := u.copyUp(n, !(hasSize && size == 0)); errno != 0 {
			return errno
		}
		a, err := beneath(u.upper, n.path())
		if err != nil {
			return fs.ToErrno(err)
		}
		defer a.close()
		if in.Valid&(fuse.FATTR_SIZE) != 0 {
			wfd, err := unix.Openat(a.fd, a.name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fs.ToErrno(err)
			}
			defer unix.Close(wfd)
			fd = wfd
		} else {
			pfd, err := unix.Openat(a.fd, a.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return fs.ToErrno(err)
			}
			defer unix.Close(pfd)
			fd = pfd
		}
	}
	if errno := u.setattrFd(fd, in); errno != 0 {
		return errno
	}
	return u.fdAttr(fd, n.StableAttr().Ino, &out.Attr)
}

// orphanTimes answers a times write-back for a node no name leads to:
// the attributes as they were, with the times asked for.
func (n *node) orphanTimes(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := n.Getattr(ctx, fh, out); errno != 0 {
		// A removed upper file: its attributes went with it.
		s, _ := n.state()
		out.Attr = fuse.Attr{Ino: n.StableAttr().Ino, Mode: s.kind.typeBits()}
	}
	if mtime, ok := in.GetMTime(); ok {
		out.Mtime, out.Mtimensec = uint64(mtime.Unix()), uint32(mtime.Nanosecond())
	}
	if atime, ok := in.GetATime(); ok {
		out.Atime, out.Atimensec = uint64(atime.Unix()), uint32(atime.Nanosecond())
	}
	return 0
}

// killPrivOnSetattr clears privileges after a truncate or chown as the
// kernel leaves it to the server under HANDLE_KILLPRIV_V2: setuid/setgid
// when it sent FATTR_KILL_SUIDGID (or a chown changing nothing),
// security.capability on any truncate (the kernel removes it itself on
// chown).
func (u *union) killPrivOnSetattr(fd int, in *fuse.SetAttrIn) syscall.Errno {
	_, truncate := in.GetSize()
	// chown(2) with both ids -1 changes nothing but still clears setuid
	// and setgid of a non-directory; the kernel sends it as a SETATTR
	// without fields (and without FATTR_KILL_SUIDGID, which it sets only
	// for a chown that names an id).
	noop := in.Valid&^(fuse.FATTR_CTIME|fuse.FATTR_FH|fuse.FATTR_LOCKOWNER) == 0
	suidgid := in.Valid&fuse.FATTR_KILL_SUIDGID != 0 || noop
	if !truncate && !suidgid {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	return u.killPrivs(&st, suidgid)
}

// timesOnly are the SETATTR fields of a utimes or of the kernel's write-back
// of cached times.
const timesOnly = fuse.FATTR_ATIME | fuse.FATTR_MTIME | fuse.FATTR_ATIME_NOW | fuse.FATTR_MTIME_NOW |
	fuse.FATTR_CTIME | fuse.FATTR_FH | fuse.FATTR_LOCKOWNER

// setattrFd applies a SETATTR to an upper entry open as fd (O_PATH is
// enough unless the size changes).
func (u *union) setattrFd(fd int, in *fuse.SetAttrIn) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if err := unix.Ftruncate(fd, int64(size)); err != nil {
			return fs.ToErrno(err)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	mode, hasMode := in.GetMode()
	uid, hasUid := in.GetUID()
	gid, hasGid := in.GetGID()
	if hasMode || hasUid || hasGid {
		m := u.metaOf(&st)
		if hasMode {
			m.Mode = m.Mode&unix.S_IFMT | mode&0o7777
			if k := kindOf(st.Mode); k == kindReg || k == kindDir {
				host := hostFileMode(mode)
				if k == kindDir {
					host = hostDirMode(mode)
				}
				if err := unix.Fchmodat(unix.AT_FDCWD, fdPath(fd), host, 0); err != nil {
					return fs.ToErrno(err)
				}
				st.Mode = st.Mode&unix.S_IFMT | host
			}
		}
		if hasUid {
			m.Uid = u.ids.uidIn(uid)
		}
		if hasGid {
			m.Gid = u.ids.gidIn(gid)
		}
		if err := u.recordMeta(&st, m); err != nil {
			return fs.ToErrno(err)
		}
	}
	if in.Valid&(fuse.FATTR_ATIME|fuse.FATTR_MTIME|fuse.FATTR_ATIME_NOW|fuse.FATTR_MTIME_NOW) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if in.Valid&fuse.FATTR_ATIME_NOW != 0 {
			ts[0].Nsec = unix.UTIME_NOW
		} else if in.Valid&fuse.FATTR_ATIME != 0 {
			ts[0] = unix.Timespec{Sec: int64(in.Atime), Nsec: int64(in.Atimensec)}
		}
		if in.Valid&fuse.FATTR_MTIME_NOW != 0 {
			ts[1].Nsec = unix.UTIME_NOW
		} else if in.Valid&fuse.FATTR_MTIME != 0 {
			ts[1] = unix.Timespec{Sec: int64(in.Mtime), Nsec: int64(in.Mtimensec)}
		}
		// utimensat on the fd's /proc link acts on the file itself,
		// symlinks included, without following them.
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), ts, 0); err != nil {
			return fs.ToErrno(err)
		}
	}
	return u.killPrivOnSetattr(fd, in)
}
