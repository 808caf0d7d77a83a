package fuseunion

import (
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// The upper directory holds the container's writes as plain files of the
// server's user. What they cannot hold (owner, device type, non-user
// xattrs, modes the server must not lose access through) is in the meta
// store; without a record, an upper file shows its host attributes.

// upperStat lstat()s an upper path.
func (u *union) upperStat(rel string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if rel == "" {
		return st, unix.Fstat(u.upper, &st)
	}
	a, err := beneath(u.upper, rel)
	if err != nil {
		return st, err
	}
	defer a.close()
	return st, unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW)
}

// isUpperWhiteout: a 0:0 character device in an upper written by kernel
// overlayfs or fuse-overlayfs. nook itself stores devices as regular files,
// so a real character device in the upper is always a whiteout.
func isUpperWhiteout(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && isWhiteoutDev(st.Rdev)
}

// upperKind is the kind the container sees of an upper entry.
func (u *union) upperKind(st *unix.Stat_t) kind {
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		if m, ok := u.metas.get(st.Ino); ok {
			return kindOf(m.Mode)
		}
	}
	return kindOf(st.Mode)
}

// upperHasWhiteout reports whether the upper directory dir holds a
// whiteout for name.
func (u *union) upperHasWhiteout(dir, name string) bool {
	fd, err := openDirBeneath(u.upper, dir)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return hasWhiteoutAt(fd, name)
}

// hasWhiteoutAt reports whether upper directory dirfd holds a whiteout
// for name.
func hasWhiteoutAt(dirfd int, name string) bool {
	if len(name)+len(whiteoutPrefix) > maxNameLen {
		return false
	}
	var st unix.Stat_t
	return unix.Fstatat(dirfd, whiteoutName(name), &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// upperDirOpaque reports whether the upper directory rel hides the lowers.
func (u *union) upperDirOpaque(rel string) bool {
	if rel == "" {
		fd, err := unix.Openat(u.upper, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return false
		}
		defer unix.Close(fd)
		return dirIsOpaque(fd, ".")
	}
	a, err := beneath(u.upper, rel)
	if err != nil {
		return false
	}
	defer a.close()
	return dirIsOpaque(a.fd, a.name)
}

// fillUpperAttr fills out from an upper entry's host stat and meta.
func (u *union) fillUpperAttr(st *unix.Stat_t, ino uint64, out *fuse.Attr) {
	out.FromStat(stat2syscall(st))
	out.Ino = ino
	out.Uid, out.Gid = u.ids.host(st)
	if m, ok := u.metas.get(st.Ino); ok {
		out.Mode = m.Mode
		out.Uid, out.Gid = m.Uid, m.Gid
		out.Rdev = uint32(m.Rdev)
		if k := kindOf(m.Mode); k == kindChar || k == kindBlock {
			out.Size, out.Blocks = 0, 0
		}
	}
	u.ids.out(out)
}

func (u *union) fillLowerAttr(e *lentry, ino uint64, out *fuse.Attr) {
	out.Ino = ino
	out.Mode = e.kind.typeBits() | e.mode
	out.Uid, out.Gid = e.uid, e.gid
	u.ids.out(out)
	out.Size = uint64(e.size)
	out.Nlink = e.nlink
	if out.Nlink == 0 {
		out.Nlink = 1
	}
	out.Rdev = uint32(e.rdev)
	out.Atime, out.Atimensec = uint64(e.atime.Sec), uint32(e.atime.Nsec)
	out.Mtime, out.Mtimensec = uint64(e.mtime.Sec), uint32(e.mtime.Nsec)
	out.Ctime, out.Ctimensec = uint64(e.ctime.Sec), uint32(e.ctime.Nsec)
	out.Blksize = 4096
	if e.blocks > 0 {
		out.Blocks = uint64(e.blocks)
	} else {
		out.Blocks = uint64((e.size + 511) / 512)
	}
}
