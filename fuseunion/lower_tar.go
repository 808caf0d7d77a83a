package fuseunion

import (
	"fmt"
	"strings"

	"github.com/nookrun/nook/layer"
	"golang.org/x/sys/unix"
)

// tarLower serves a layer straight from its tar through the layer's
// index: lookups and attributes come from the mapped index, data is read
// (or spliced, or copy_file_range'd) at the member's offset in the tar.
type tarLower struct {
	l  *layer.Layer
	fd int
}

var _ Lower = (*tarLower)(nil)

// OpenTarLower opens an indexed layer tar (X.tar with X.idx beside it, as the
// layer package writes them) as a lower layer.
func OpenTarLower(tarPath string) (Lower, error) {
	idx := strings.TrimSuffix(tarPath, ".tar") + ".idx"
	l, err := layer.OpenFiles(tarPath, idx)
	if err != nil {
		return nil, fmt.Errorf("open layer %s: %w", tarPath, err)
	}
	return NewTarLower(l), nil
}

// NewTarLower uses an open layer as a lower; the lower closes it.
func NewTarLower(l *layer.Layer) Lower {
	return &tarLower{l: l, fd: int(l.Tar().Fd())}
}

func (t *tarLower) Close() error { return t.l.Close() }
func (t *tarLower) hostFd() int  { return t.fd }

func (t *tarLower) entry(id layer.ID) lentry {
	var e layer.Entry
	t.l.Entry(id, &e)
	le := lentryOf(&e)
	if le.kind == kindDir {
		le.nlink = 2 + t.subdirs(id)
	}
	return le
}

// subdirs counts a directory's subdirectories, for its link count.
func (t *tarLower) subdirs(id layer.ID) uint32 {
	first, n := t.l.Children(id)
	var e layer.Entry
	var c uint32
	for i := 0; i < n; i++ {
		t.l.Entry(first+layer.ID(i), &e)
		if e.Kind == layer.KindDir {
			c++
		}
	}
	return c
}

func lentryOf(e *layer.Entry) lentry {
	le := lentry{
		kind:     kind(e.Kind), // the layer's kinds are numbered as ours
		opaque:   e.Opaque,
		implicit: e.Implicit,
		mode:     e.Mode,
		uid:      e.Uid,
		gid:      e.Gid,
		size:     e.Size,
		atime:    unix.Timespec{Sec: e.Atime.Sec, Nsec: e.Atime.Nsec},
		mtime:    unix.Timespec{Sec: e.Mtime.Sec, Nsec: e.Mtime.Nsec},
		ctime:    unix.Timespec{Sec: e.Ctime.Sec, Nsec: e.Ctime.Nsec},
		rdev:     e.Rdev,
		nlink:    e.Nlink,
		ident:    uint64(e.Inode),
	}
	return le
}

func (t *tarLower) root() (lref, lentry, error) {
	return lref{id: uint32(layer.Root)}, t.entry(layer.Root), nil
}

func (t *tarLower) lookup(dir lref, name string) (lref, lentry, error) {
	id, ok := t.l.Lookup(layer.ID(dir.id), name)
	if !ok {
		return lref{}, lentry{}, unix.ENOENT
	}
	return lref{id: uint32(id)}, t.entry(id), nil
}

func (t *tarLower) resolve(path string) (lref, lentry, error) {
	id := layer.Root
	for _, c := range strings.Split(path, "/") {
		if c == "" {
			continue
		}
		next, ok := t.l.Lookup(id, c)
		if !ok {
			return lref{}, lentry{}, unix.ENOENT
		}
		id = next
	}
	e := t.entry(id)
	if e.kind == kindWhiteout {
		return lref{}, lentry{}, unix.ENOENT
	}
	return lref{id: uint32(id)}, e, nil
}

func (t *tarLower) readdir(dir lref, fn func(name string, k kind, ident uint64)) error {
	first, n := t.l.Children(layer.ID(dir.id))
	var e layer.Entry
	for i := 0; i < n; i++ {
		t.l.Entry(first+layer.ID(i), &e)
		fn(e.Name, kind(e.Kind), uint64(e.Inode))
	}
	return nil
}

func (t *tarLower) readlink(ref lref) (string, error) {
	var e layer.Entry
	t.l.Entry(layer.ID(ref.id), &e)
	if e.Kind != layer.KindSymlink {
		return "", unix.EINVAL
	}
	return strings.Clone(e.Link), nil
}

func (t *tarLower) open(ref lref, e *lentry) (*lowerFile, error) {
	ext := t.l.Extents(layer.ID(ref.id))
	lf := &lowerFile{fd: t.fd, size: e.size}
	if len(ext) == 1 && ext[0].Off == 0 && ext[0].Len == e.size {
		lf.base = ext[0].TarOff
		return lf, nil
	}
	lf.segs = make([]segment, len(ext))
	for i, x := range ext {
		lf.segs[i] = segment{off: x.Off, fdOff: x.TarOff, n: x.Len}
	}
	return lf, nil
}

func (t *tarLower) listxattr(ref lref, e *lentry) ([]string, error) {
	var names []string
	t.l.Xattrs(layer.ID(ref.id), func(name string, value []byte) {
		if !isPrivateXattr(name) {
			names = append(names, strings.Clone(name))
		}
	})
	return names, nil
}

func (t *tarLower) getxattr(ref lref, e *lentry, name string) ([]byte, error) {
	var v []byte
	found := false
	t.l.Xattrs(layer.ID(ref.id), func(n string, value []byte) {
		if n == name {
			v, found = append([]byte(nil), value...), true
		}
	})
	if !found || isPrivateXattr(name) {
		return nil, unix.ENODATA
	}
	return v, nil
}

func (t *tarLower) links(ref lref, e *lentry) ([]string, error) {
	ids := t.l.Links(layer.ID(ref.id))
	paths := make([]string, 0, len(ids))
	for _, id := range ids {
		paths = append(paths, t.l.Path(id))
	}
	return paths, nil
}
