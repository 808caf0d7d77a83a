package fuseunion

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// dirLower is a host directory used as a read-only layer. Nothing changes it
// while it is mounted, so paths relative to its root fd are resolved
// directly, and only paths near PATH_MAX are walked in chunks.
type dirLower struct {
	path string
	fd   int

	linksOnce sync.Once
	linkMap   map[uint64][]string // host ino → paths, for files with nlink > 1
	linkErr   error

	files lowerFds // open host files, shared by the handles on them
}

var _ Lower = (*dirLower)(nil)

// OpenDirLower opens a host directory as a lower layer. Every whiteout form
// the peers write is understood: OCI ".wh.NAME" and ".wh..wh..opq", overlayfs
// 0:0 character devices and the trusted./user.overlay.opaque xattrs.
func OpenDirLower(path string) (Lower, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open lower directory %s: %w", path, err)
	}
	return &dirLower{path: path, fd: fd}, nil
}

func (d *dirLower) Close() error {
	d.files.closeAll()
	return unix.Close(d.fd)
}

func (d *dirLower) root() (lref, lentry, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.fd, &st); err != nil {
		return lref{}, lentry{}, err
	}
	return lref{}, entryFromStat(&st), nil
}

func (d *dirLower) stat(rel string) (lentry, error) {
	a, err := direct(d.fd, rel)
	if err != nil {
		return lentry{}, err
	}
	defer a.close()
	var st unix.Stat_t
	if err := unix.Fstatat(a.fd, a.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return lentry{}, err
	}
	e := entryFromStat(&st)
	switch e.kind {
	case kindChar:
		if isWhiteoutDev(st.Rdev) {
			e.kind = kindWhiteout
		}
	case kindDir:
		e.opaque = dirIsOpaque(a.fd, a.name)
	}
	return e, nil
}

func (d *dirLower) lookup(dir lref, name string) (lref, lentry, error) {
	rel := joinPath(dir.path, name)
	e, err := d.stat(rel)
	if err == unix.ENOENT && len(name)+len(whiteoutPrefix) <= maxNameLen {
		if _, werr := d.stat(joinPath(dir.path, whiteoutName(name))); werr == nil {
			return lref{path: rel}, lentry{kind: kindWhiteout}, nil
		}
	}
	if err != nil {
		return lref{}, lentry{}, err
	}
	return lref{path: rel}, e, nil
}

func (d *dirLower) resolve(path string) (lref, lentry, error) {
	ref, e, err := d.root()
	for _, c := range strings.Split(path, "/") {
		if err != nil || c == "" {
			continue
		}
		if e.kind != kindDir {
			return lref{}, lentry{}, unix.ENOTDIR
		}
		ref, e, err = d.lookup(ref, c)
		if err == nil && e.kind == kindWhiteout {
			err = unix.ENOENT
		}
	}
	return ref, e, err
}

func (d *dirLower) readdir(dir lref, fn func(name string, k kind, ident uint64)) error {
	a, err := direct(d.fd, dir.path)
	if err != nil {
		return err
	}
	defer a.close()
	fd, err := unix.Openat(a.fd, a.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return readDirents(fd, func(name string, typ uint8, ino uint64) {
		if name == opaqueMarker {
			return
		}
		if t, ok := whiteoutTarget(name); ok {
			fn(t, kindWhiteout, 0)
			return
		}
		k := kindOfDT(typ)
		if k == kindChar || k == kindNone {
			var st unix.Stat_t
			if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
				return
			}
			k = kindOf(st.Mode)
			if k == kindChar && isWhiteoutDev(st.Rdev) {
				k = kindWhiteout
			}
		}
		fn(name, k, ino)
	})
}

func (d *dirLower) readlink(ref lref) (string, error) {
	a, err := direct(d.fd, ref.path)
	if err != nil {
		return "", err
	}
	defer a.close()
	return readlinkat(a.fd, a.name)
}

func (d *dirLower) open(ref lref, e *lentry) (*lowerFile, error) {
	if fd, release, ok := d.files.get(ref.path); ok {
		return &lowerFile{fd: fd, own: true, size: e.size, release: release}, nil
	}
	a, err := direct(d.fd, ref.path)
	if err != nil {
		return nil, err
	}
	defer a.close()
	fd, err := unix.Openat(a.fd, a.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fd, release := d.files.add(ref.path, fd)
	return &lowerFile{fd: fd, own: true, size: e.size, release: release}, nil
}

func (d *dirLower) listxattr(ref lref, e *lentry) ([]string, error) {
	a, err := direct(d.fd, ref.path)
	if err != nil {
		return nil, err
	}
	defer a.close()
	names, err := llistxattrAt(a.fd, a.name)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if !isPrivateXattr(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (d *dirLower) getxattr(ref lref, e *lentry, name string) ([]byte, error) {
	if isPrivateXattr(name) {
		return nil, unix.ENODATA
	}
	a, err := direct(d.fd, ref.path)
	if err != nil {
		return nil, err
	}
	defer a.close()
	return lgetxattrAt(a.fd, a.name, name)
}

// links finds the other names of a hardlinked file by walking the layer
// once; the map is kept for later copy-ups.
func (d *dirLower) links(ref lref, e *lentry) ([]string, error) {
	if e.nlink <= 1 || e.kind == kindDir {
		return []string{ref.path}, nil
	}
	d.linksOnce.Do(func() {
		d.linkMap = map[uint64][]string{}
		d.linkErr = d.walkLinks("")
	})
	if d.linkErr != nil {
		return nil, d.linkErr
	}
	if p := d.linkMap[e.ident]; len(p) > 0 {
		return p, nil
	}
	return []string{ref.path}, nil
}

func (d *dirLower) walkLinks(dir string) error {
	var subdirs []string
	err := d.readdir(lref{path: dir}, func(name string, k kind, ident uint64) {
		p := joinPath(dir, name)
		switch k {
		case kindDir:
			subdirs = append(subdirs, p)
		case kindWhiteout:
		default:
			if e, err := d.stat(p); err == nil && e.nlink > 1 && e.kind != kindDir {
				d.linkMap[e.ident] = append(d.linkMap[e.ident], p)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("scan %s for hard links: %w", d.path, err)
	}
	for _, s := range subdirs {
		if err := d.walkLinks(s); err != nil {
			return err
		}
	}
	return nil
}

// dirIsOpaque reports whether directory name in dirfd is marked opaque in
// any of the forms the peers write.
func dirIsOpaque(dirfd int, name string) bool {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstatat(fd, opaqueMarker, &st, unix.AT_SYMLINK_NOFOLLOW) == nil {
		return true
	}
	var v [4]byte
	for _, x := range opaqueXattrs {
		if n, err := unix.Fgetxattr(fd, x, v[:]); err == nil && isOpaqueValue(v[:n]) {
			return true
		}
	}
	return false
}

func entryFromStat(st *unix.Stat_t) lentry {
	return lentry{
		kind:   kindOf(st.Mode),
		mode:   st.Mode & 07777,
		uid:    st.Uid,
		gid:    st.Gid,
		size:   st.Size,
		atime:  st.Atim,
		mtime:  st.Mtim,
		ctime:  st.Ctim,
		rdev:   st.Rdev,
		nlink:  uint32(st.Nlink),
		ident:  st.Ino,
		blocks: st.Blocks,
	}
}
func (d *dirLower) hostFd() int { return d.fd }
