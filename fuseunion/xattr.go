package fuseunion

import (
	"context"
	"sort"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sys/unix"
)

var (
	_ = (fs.NodeGetxattrer)((*node)(nil))
	_ = (fs.NodeSetxattrer)((*node)(nil))
	_ = (fs.NodeRemovexattrer)((*node)(nil))
	_ = (fs.NodeListxattrer)((*node)(nil))
)

// Xattrs of upper entries live in the meta store (all namespaces alike, so
// trusted. and security.capability work for an unprivileged server and on
// filesystems without xattrs); an upper entry without a record shows its
// host user. xattrs. Lower entries show what the layer holds.

// xattrs returns every xattr the union shows for n.
func (n *node) xattrs() (map[string][]byte, syscall.Errno) {
	s, errno := n.state()
	if errno != 0 {
		return nil, errno
	}
	u := n.u
	if !s.upper {
		xa, err := u.lowerXattrs(&s)
		return xa, fs.ToErrno(err)
	}
	st, err := u.upperStat(n.path())
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	if m, ok := u.metas.get(st.Ino); ok {
		return m.Xattrs, 0
	}
	return u.hostXattrs(n.path())
}

// xattr returns one xattr the union shows for n, or ENODATA. The kernel
// asks for security.capability before every write(2) and chown of a file
// (to clear it), so for an upper entry this costs one parent open and
// one stat, and no listing of the host file's xattrs.
func (n *node) xattr(name string) ([]byte, syscall.Errno) {
	s, errno := n.state()
	if errno != 0 {
		return nil, errno
	}
	if !s.upper {
		xa, errno := n.xattrs()
		if errno != 0 {
			return nil, errno
		}
		if v, ok := xa[name]; ok {
			return v, 0
		}
		return nil, syscall.ENODATA
	}
	u := n.u
	a, err := beneath(u.upper, n.path())
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer a.close()
	var st unix.Stat_t
	if err := unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, fs.ToErrno(err)
	}
	if m, ok := u.metas.get(st.Ino); ok {
		if v, ok := m.Xattrs[name]; ok {
			return v, 0
		}
		return nil, syscall.ENODATA
	}
	// Without a record the entry shows its host user. xattrs (hostXattrs).
	if !strings.HasPrefix(name, "user.") {
		return nil, syscall.ENODATA
	}
	v, err := lgetxattrAt(a.fd, a.name, name)
	switch err {
	case nil:
		return v, 0
	case unix.ENOTSUP, unix.EPERM:
		return nil, syscall.ENODATA
	}
	return nil, fs.ToErrno(err)
}

// hostXattrs reads an upper entry's own user. xattrs.
func (u *union) hostXattrs(path string) (map[string][]byte, syscall.Errno) {
	a, err := beneath(u.upper, path)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	defer a.close()
	names, err := llistxattrAt(a.fd, a.name)
	if err != nil {
		if err == unix.ENOTSUP || err == unix.EPERM {
			return nil, 0
		}
		return nil, fs.ToErrno(err)
	}
	var xa map[string][]byte
	for _, name := range names {
		if isPrivateXattr(name) || !strings.HasPrefix(name, "user.") {
			continue
		}
		v, err := lgetxattrAt(a.fd, a.name, name)
		if err != nil {
			continue
		}
		if xa == nil {
			xa = map[string][]byte{}
		}
		xa[name] = v
	}
	return xa, 0
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if isUnservedXattr(attr) {
		return 0, syscall.EOPNOTSUPP
	}
	if isPrivateXattr(attr) {
		return 0, syscall.ENODATA
	}
	v, errno := n.xattr(attr)
	if errno != 0 {
		return 0, errno
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	xa, errno := n.xattrs()
	if errno != 0 {
		return 0, errno
	}
	names := make([]string, 0, len(xa))
	size := 0
	for k := range xa {
		if isUnservedXattr(k) {
			continue
		}
		names = append(names, k)
		size += len(k) + 1
	}
	if len(dest) < size {
		return uint32(size), syscall.ERANGE
	}
	sort.Strings(names)
	off := 0
	for _, k := range names {
		off += copy(dest[off:], k)
		dest[off] = 0
		off++
	}
	return uint32(off), 0
}

func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if isPrivateXattr(attr) {
		return syscall.EPERM
	}
	if strings.HasPrefix(attr, "system.") || isUnservedXattr(attr) {
		return syscall.EOPNOTSUPP // POSIX ACLs and SELinux labels are not supported
	}
	return n.changeXattrs(func(xa map[string][]byte) syscall.Errno {
		_, exists := xa[attr]
		if flags&unix.XATTR_CREATE != 0 && exists {
			return syscall.EEXIST
		}
		if flags&unix.XATTR_REPLACE != 0 && !exists {
			return syscall.ENODATA
		}
		xa[attr] = append([]byte(nil), data...)
		return 0
	})
}

func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if isUnservedXattr(attr) {
		return syscall.EOPNOTSUPP
	}
	if isPrivateXattr(attr) {
		return syscall.ENODATA
	}
	return n.changeXattrs(func(xa map[string][]byte) syscall.Errno {
		if _, ok := xa[attr]; !ok {
			return syscall.ENODATA
		}
		delete(xa, attr)
		return 0
	})
}

// changeXattrs copies n up and applies change to its xattrs in the meta
// store.
func (n *node) changeXattrs(change func(map[string][]byte) syscall.Errno) syscall.Errno {
	u := n.u
	if u.readonly() {
		return syscall.EROFS
	}
	cur, errno := n.xattrs()
	if errno != 0 {
		return errno
	}
	xa := make(map[string][]byte, len(cur)+1)
	for k, v := range cur {
		xa[k] = v
	}
	if errno := change(xa); errno != 0 {
		return errno
	}
	if errno := u.copyUp(n, true); errno != 0 {
		return errno
	}
	st, err := u.upperStat(n.path())
	if err != nil {
		return fs.ToErrno(err)
	}
	m := u.metaOf(&st)
	m.Xattrs = xa
	return fs.ToErrno(u.recordMeta(&st, m))
}
