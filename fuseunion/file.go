package fuseunion

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var _ = (fs.NodeOpener)((*node)(nil))

// Open implements fs.NodeOpener. A write (or O_TRUNC) copies the file up
// first; with O_TRUNC the copy skips the data.
func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	write := flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0
	if write {
		if errno := n.u.copyUp(n, flags&syscall.O_TRUNC == 0); errno != 0 {
			return nil, 0, errno
		}
	}
	s, errno := n.state()
	if errno != 0 {
		return nil, 0, errno
	}
	if s.upper {
		fd, errno := n.u.openUpper(n.path(), flags)
		if errno != 0 {
			return nil, 0, errno
		}
		if flags&syscall.O_TRUNC != 0 {
			if errno := n.u.killPriv(fd); errno != 0 {
				unix.Close(fd)
				return nil, 0, errno
			}
		}
		return n.newUpperFile(fd), fuse.FOPEN_KEEP_CACHE, 0
	}
	lr := s.top
	lf, err := n.u.lowers[lr.layer].open(lr.ref, &s.le)
	if err != nil {
		return nil, 0, fs.ToErrno(err)
	}
	// Lower files never change: the kernel may keep their pages.
	return &lowerHandle{n: n, lf: lf}, fuse.FOPEN_KEEP_CACHE, 0
}

// openUpper opens an upper file for a FUSE open with flags. With the
// writeback cache the kernel may read through a write-only handle and does
// O_APPEND itself, so the file is opened read-write and without O_APPEND.
func (u *union) openUpper(path string, flags uint32) (int, syscall.Errno) {
	a, err := beneath(u.upper, path)
	if err != nil {
		return -1, fs.ToErrno(err)
	}
	defer a.close()
	f := int(flags) &^ (syscall.O_APPEND | syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOCTTY | syscall.O_ACCMODE)
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		f |= syscall.O_RDWR
	}
	fd, err := unix.Openat(a.fd, a.name, f|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.EACCES && f&syscall.O_ACCMODE == syscall.O_RDONLY {
		// A write-only host file (mode 0200 on the host): the kernel
		// already checked the container's permissions.
		fd, err = unix.Openat(a.fd, a.name, f|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, fs.ToErrno(err)
	}
	return fd, 0
}

// killPriv clears setuid, setgid on a group-executable file and
// security.capability after an O_TRUNC open. With atomic O_TRUNC the
// kernel leaves this to the server; it would clear them for any caller
// without CAP_FSETID in the initial user namespace, which a container
// never has.
func (u *union) killPriv(fd int) syscall.Errno {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	return u.killPrivs(&st, true)
}

func (n *node) newUpperFile(fd int) *upperFile {
	n.mu.Lock()
	n.opens++
	n.mu.Unlock()
	return &upperFile{n: n, fd: fd}
}

// upperFile is an open upper file.
type upperFile struct {
	n  *node
	fd int
	// hostIno is the key of its meta record, read at the first write:
	// most opens never write, and an fstat per open is a hot-path cost.
	hostInoOnce sync.Once
	hostIno     uint64
}

func (f *upperFile) metaKey() uint64 {
	f.hostInoOnce.Do(func() {
		var st unix.Stat_t
		if unix.Fstat(f.fd, &st) == nil {
			f.hostIno = st.Ino
		}
	})
	return f.hostIno
}

var (
	_ = (fs.FileReader)((*upperFile)(nil))
	_ = (fs.FileWriter)((*upperFile)(nil))
	_ = (fs.FileFlusher)((*upperFile)(nil))
	_ = (fs.FileFsyncer)((*upperFile)(nil))
	_ = (fs.FileReleaser)((*upperFile)(nil))
	_ = (fs.FileGetattrer)((*upperFile)(nil))
	_ = (fs.FileSetattrer)((*upperFile)(nil))
	_ = (fs.FileLseeker)((*upperFile)(nil))
	_ = (fs.FileAllocater)((*upperFile)(nil))
)

func (f *upperFile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return fuse.ReadResultFd(uintptr(f.fd), off, len(buf)), 0
}

func (f *upperFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := f.n.u.killPrivOnWrite(f.fd, f.metaKey(), f.n.u.killFlags.take(ctx)); errno != 0 {
		return 0, errno
	}
	n, err := unix.Pwrite(f.fd, data, off)
	return uint32(n), fs.ToErrno(err)
}

// Flush reports errors that a network filesystem only gives at close (NFS
// write-back, quotas) by closing a duplicate, as close(2) would. It is
// called only for such an upper: elsewhere fewerRoundTrips turns FLUSH off
// for the whole mount.
func (f *upperFile) Flush(ctx context.Context) syscall.Errno {
	fd, err := unix.Dup(f.fd)
	if err != nil {
		return fs.ToErrno(err)
	}
	return fs.ToErrno(unix.Close(fd))
}

func (f *upperFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if f.n.u.volatile {
		return 0
	}
	var err error
	if flags&1 != 0 {
		err = unix.Fdatasync(f.fd)
	} else {
		err = unix.Fsync(f.fd)
	}
	if err != nil {
		return fs.ToErrno(err)
	}
	return fs.ToErrno(f.n.u.metas.flush(true))
}

func (f *upperFile) Release(ctx context.Context) syscall.Errno {
	n := f.n
	n.mu.Lock()
	n.opens--
	drop := n.opens == 0 && n.dropMeta != 0
	ino := n.dropMeta
	if drop {
		n.dropMeta = 0
	}
	n.mu.Unlock()
	if drop {
		n.u.metas.del(ino)
	}
	return fs.ToErrno(unix.Close(f.fd))
}

func (f *upperFile) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.n.u.fdAttr(f.fd, f.n.StableAttr().Ino, &out.Attr)
}

func (f *upperFile) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if errno := f.n.u.setattrFd(f.fd, in); errno != 0 {
		return errno
	}
	return f.Getattr(ctx, out)
}

func (f *upperFile) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	n, err := unix.Seek(f.fd, int64(off), int(whence))
	return uint64(n), fs.ToErrno(err)
}

func (f *upperFile) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	return fs.ToErrno(unix.Fallocate(f.fd, mode, int64(off), int64(size)))
}

// lowerHandle is a lower file open for reading. Should the file be copied
// up while it is open (another handle writes it), reads follow it to the
// upper, as overlayfs has done since Linux 4.19.
type lowerHandle struct {
	n  *node
	lf *lowerFile

	mu      sync.Mutex
	upperFd int // opened on the first read after a copy-up; 0 = not yet
}

var (
	_ = (fs.FileReader)((*lowerHandle)(nil))
	_ = (fs.FileReleaser)((*lowerHandle)(nil))
	_ = (fs.FileLseeker)((*lowerHandle)(nil))
)

func (h *lowerHandle) upper() int {
	h.n.mu.Lock()
	up := h.n.st.upper
	h.n.mu.Unlock()
	if !up {
		return -1
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.upperFd == 0 {
		fd, errno := h.n.u.openUpper(h.n.path(), syscall.O_RDONLY)
		if errno != 0 {
			return -1
		}
		h.upperFd = fd + 1
	}
	return h.upperFd - 1
}

func (h *lowerHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if fd := h.upper(); fd >= 0 {
		return fuse.ReadResultFd(uintptr(fd), off, len(buf)), 0
	}
	lf := h.lf
	if off >= lf.size {
		return fuse.ReadResultData(nil), 0
	}
	n := min(int64(len(buf)), lf.size-off)
	if fdOff, ok := lf.span(off, n); ok {
		return fuse.ReadResultFd(uintptr(lf.fd), fdOff, int(n)), 0
	}
	k, err := lf.readAt(buf[:n], off)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	return fuse.ReadResultData(buf[:k]), 0
}

func (h *lowerHandle) Release(ctx context.Context) syscall.Errno {
	h.lf.close()
	h.mu.Lock()
	if h.upperFd > 0 {
		unix.Close(h.upperFd - 1)
	}
	h.mu.Unlock()
	return 0
}

// Lseek answers SEEK_DATA and SEEK_HOLE from the file's extents.
func (h *lowerHandle) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	if fd := h.upper(); fd >= 0 {
		n, err := unix.Seek(fd, int64(off), int(whence))
		return uint64(n), fs.ToErrno(err)
	}
	lf := h.lf
	o := int64(off)
	if o >= lf.size {
		return 0, syscall.ENXIO
	}
	segs := lf.segs
	if segs == nil && lf.own {
		var err error
		if segs, err = dataSegments(lf.fd, lf.size); err != nil {
			return 0, fs.ToErrno(err)
		}
	}
	if segs == nil {
		segs = []segment{{0, lf.base, lf.size}}
	}
	switch whence {
	case unix.SEEK_DATA:
		for _, s := range segs {
			if o < s.off+s.n {
				return uint64(max(o, s.off)), 0
			}
		}
		return 0, syscall.ENXIO
	case unix.SEEK_HOLE:
		for _, s := range segs {
			if o < s.off {
				return off, 0
			}
			if o < s.off+s.n {
				o = s.off + s.n
			}
		}
		return uint64(min(o, lf.size)), 0
	}
	return 0, syscall.EINVAL
}
