package fuseunion

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var (
	_ = (fs.NodeReadlinker)((*node)(nil))
	_ = (fs.NodeStatfser)((*node)(nil))
)

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	s, errno := n.state()
	if errno != 0 {
		return nil, errno
	}
	if s.kind != kindSymlink {
		return nil, syscall.EINVAL
	}
	if s.upper {
		a, err := beneath(n.u.upper, n.path())
		if err != nil {
			return nil, fs.ToErrno(err)
		}
		defer a.close()
		t, err := readlinkat(a.fd, a.name)
		return []byte(t), fs.ToErrno(err)
	}
	lr := s.top
	t, err := n.u.lowers[lr.layer].readlink(lr.ref)
	return []byte(t), fs.ToErrno(err)
}

// Statfs reports the upper's filesystem (where writes go), or for a
// read-only union the topmost lower's.
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	fd := n.u.upper
	if fd < 0 {
		fd = n.u.lowerFd()
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	out.Blocks, out.Bfree, out.Bavail = st.Blocks, st.Bfree, st.Bavail
	out.Files, out.Ffree = st.Files, st.Ffree
	out.Bsize, out.Frsize = uint32(st.Bsize), uint32(st.Frsize)
	out.NameLen = maxNameLen
	return 0
}

// lowerFd is an fd on the topmost lower's host filesystem.
func (u *union) lowerFd() int {
	for _, l := range u.lowers {
		if fd := l.hostFd(); fd >= 0 {
			return fd
		}
	}
	return -1
}
