package fuseunion

import (
	"context"
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

var (
	_ = (fs.NodeOpendirHandler)((*node)(nil))
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileFsyncdirer)((*dirHandle)(nil))
)

// listDir calls fn for every name the union shows in directory path (state
// s): upper entries first, then each lower's, each name once, whiteouts
// and markers never. fn returns false to stop.
func (u *union) listDir(path string, s *nstate, fn func(name string, k kind, ino uint64) bool) syscall.Errno {
	seen := map[string]struct{}{}
	stop := false
	if s.upper {
		dfd, err := openDirBeneath(u.upper, path)
		if err != nil {
			return fs.ToErrno(err)
		}
		rfd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(dfd)
		if err != nil {
			return fs.ToErrno(err)
		}
		err = readDirents(rfd, func(name string, typ uint8, hostIno uint64) {
			if stop || name == opaqueMarker {
				return
			}
			if t, ok := whiteoutTarget(name); ok {
				seen[t] = struct{}{}
				return
			}
			if isWhiteoutName(name) {
				return
			}
			k := kindOfDT(typ)
			switch k {
			case kindReg:
				// Devices live as regular files with a meta record.
				if m, ok := u.metas.get(hostIno); ok {
					k = kindOf(m.Mode)
				}
			case kindChar, kindNone:
				var st unix.Stat_t
				if unix.Fstatat(rfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
					return
				}
				if isUpperWhiteout(&st) {
					seen[name] = struct{}{}
					return
				}
				k = u.upperKind(&st)
			}
			seen[name] = struct{}{}
			if !fn(name, k, u.upperIno(hostIno)) {
				stop = true
			}
		})
		unix.Close(rfd)
		if err != nil {
			return fs.ToErrno(err)
		}
	}
	for _, lr := range s.lowers {
		if stop {
			break
		}
		var hidden []string
		err := u.lowers[lr.layer].readdir(lr.ref, func(name string, k kind, ident uint64) {
			if stop {
				return
			}
			if _, ok := seen[name]; ok {
				return
			}
			if k == kindWhiteout {
				hidden = append(hidden, name)
				return
			}
			seen[name] = struct{}{}
			if !fn(name, k, u.lowerIno(lr.layer, ident)) {
				stop = true
			}
		})
		if err != nil {
			return fs.ToErrno(err)
		}
		// A whiteout hides the name in the layers below, not in its own.
		for _, h := range hidden {
			seen[h] = struct{}{}
		}
	}
	return 0
}

// OpendirHandle implements fs.NodeOpendirHandler. The kernel may cache
// the listing: every change to a directory goes through this mount, and
// the kernel drops its cache on each.
func (n *node) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	s, errno := n.state()
	if errno != 0 {
		return nil, 0, errno
	}
	if s.kind != kindDir {
		return nil, 0, syscall.ENOTDIR
	}
	return &dirHandle{n: n}, fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

// dirHandle is an open directory. Its listing is taken at the first read
// (and again after a rewind), so telldir/seekdir offsets stay valid however
// the directory changes meanwhile.
type dirHandle struct {
	n       *node
	mu      sync.Mutex
	entries []fuse.DirEntry
	loaded  bool
	pos     int
}

func (h *dirHandle) load() syscall.Errno {
	n := h.n
	s, errno := n.state()
	if errno != 0 {
		return errno
	}
	self := n.StableAttr().Ino
	parent := self
	if p := n.parentNode(); p != nil {
		parent = p.StableAttr().Ino
	}
	entries := []fuse.DirEntry{
		{Name: ".", Mode: unix.S_IFDIR, Ino: self},
		{Name: "..", Mode: unix.S_IFDIR, Ino: parent},
	}
	errno = n.u.listDir(n.path(), &s, func(name string, k kind, ino uint64) bool {
		entries = append(entries, fuse.DirEntry{Name: name, Mode: k.typeBits(), Ino: ino})
		return true
	})
	if errno != 0 {
		return errno
	}
	for i := range entries {
		entries[i].Off = uint64(i + 1)
	}
	h.entries, h.loaded = entries, true
	return 0
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		if errno := h.load(); errno != 0 {
			return nil, errno
		}
	}
	if h.pos >= len(h.entries) {
		return nil, 0
	}
	e := h.entries[h.pos]
	h.pos++
	return &e, 0
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if off == 0 {
		h.loaded = false // rewinddir sees the directory as it is now
	}
	h.pos = int(off)
	return 0
}

func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return h.n.Lookup(ctx, name, out)
}

func (h *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if h.n.u.volatile {
		return 0
	}
	s, errno := h.n.state()
	if errno != 0 || !s.upper {
		return errno
	}
	fd, err := openDirBeneath(h.n.u.upper, h.n.path())
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(fd)
	rfd, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer unix.Close(rfd)
	if err := unix.Fsync(rfd); err != nil {
		return fs.ToErrno(err)
	}
	return fs.ToErrno(h.n.u.metas.flush(true))
}
