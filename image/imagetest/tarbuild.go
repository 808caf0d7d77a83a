package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"time"
)

// tarBuilder writes a layer tar in memory, making each missing parent
// directory (0755 root:root) before its first child, as image builders do.
type tarBuilder struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	seen map[string]bool
	mod  time.Time
	err  error
}

func newTarBuilder(mod time.Time) *tarBuilder {
	b := &tarBuilder{seen: map[string]bool{}, mod: mod}
	b.tw = tar.NewWriter(&b.buf)
	return b
}

// add writes h (its name absolute, without a leading "./") and data.
func (b *tarBuilder) add(h tar.Header, data []byte) {
	if b.err != nil {
		return
	}
	name := path.Clean("/" + h.Name)[1:]
	b.parents(path.Dir(name))
	h.Name = name
	if h.Typeflag == tar.TypeDir {
		h.Name += "/"
		b.seen[name] = true
	}
	h.ModTime = b.mod
	h.Format = tar.FormatPAX
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(data))
	}
	if err := b.tw.WriteHeader(&h); err != nil {
		b.err = fmt.Errorf("write tar header %s: %w", h.Name, err)
		return
	}
	if _, err := b.tw.Write(data); err != nil {
		b.err = fmt.Errorf("write tar data %s: %w", h.Name, err)
	}
}

func (b *tarBuilder) parents(dir string) {
	if dir == "." || dir == "" || b.seen[dir] {
		return
	}
	b.parents(path.Dir(dir))
	b.add(tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755}, nil)
}

func (b *tarBuilder) dir(name string, mode int64, uid, gid int) {
	b.add(tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: gid}, nil)
}

func (b *tarBuilder) file(name string, mode int64, uid, gid int, data []byte) {
	b.add(tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Uid: uid, Gid: gid}, data)
}

func (b *tarBuilder) symlink(name, target string) {
	b.add(tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}, nil)
}

func (b *tarBuilder) bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if err := b.tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer tar: %w", err)
	}
	return b.buf.Bytes(), nil
}
