package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// tarBuilder writes a tar in memory with archive/tar.
type tarBuilder struct {
	t   testing.TB
	buf bytes.Buffer
	tw  *tar.Writer
}

func newTar(t testing.TB) *tarBuilder {
	b := &tarBuilder{t: t}
	b.tw = tar.NewWriter(&b.buf)
	return b
}

var testTime = time.Unix(1700000000, 123456789)

func (b *tarBuilder) add(h *tar.Header, data string) *tarBuilder {
	b.t.Helper()
	if h.ModTime.IsZero() && h.Typeflag != tar.TypeXGlobalHeader {
		h.ModTime = testTime
	}
	if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
		h.Size = int64(len(data))
	}
	if err := b.tw.WriteHeader(h); err != nil {
		b.t.Fatalf("write header %s: %v", h.Name, err)
	}
	if _, err := io.WriteString(b.tw, data); err != nil {
		b.t.Fatalf("write data %s: %v", h.Name, err)
	}
	return b
}

func (b *tarBuilder) dir(name string, mode int64) *tarBuilder {
	return b.add(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}, "")
}

func (b *tarBuilder) file(name, data string) *tarBuilder {
	return b.add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}, data)
}

func (b *tarBuilder) link(name, target string) *tarBuilder {
	return b.add(&tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}, "")
}

func (b *tarBuilder) symlink(name, target string) *tarBuilder {
	return b.add(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, "")
}

func (b *tarBuilder) bytes() []byte {
	b.t.Helper()
	if err := b.tw.Close(); err != nil {
		b.t.Fatalf("close tar: %v", err)
	}
	return b.buf.Bytes()
}

// create indexes data into a fresh directory and opens the result; the
// layer is closed when the test ends.
func create(t testing.TB, data []byte, opts ...Option) (*Layer, Info, string) {
	t.Helper()
	dir := t.TempDir()
	info, err := Create(context.Background(), bytes.NewReader(data), dir, opts...)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	l, err := Open(dir, info.DiffID)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	if err := checkLayer(l); err != nil {
		t.Fatalf("layer inconsistent: %v", err)
	}
	return l, info, dir
}

// lookup resolves a slash-separated path by Lookup from the root.
func lookup(l *Layer, p string) (ID, bool) {
	id := Root
	if p == "" {
		return id, true
	}
	for _, c := range strings.Split(p, "/") {
		var ok bool
		if id, ok = l.Lookup(id, c); !ok {
			return 0, false
		}
	}
	return id, true
}

// must returns the entry at p or fails the test.
func must(t testing.TB, l *Layer, p string) (ID, Entry) {
	t.Helper()
	id, ok := lookup(l, p)
	if !ok {
		t.Fatalf("%q not in layer; have %v", p, paths(l))
	}
	var e Entry
	l.Entry(id, &e)
	return id, e
}

func absent(t testing.TB, l *Layer, p string) {
	t.Helper()
	if _, ok := lookup(l, p); ok {
		t.Fatalf("%q in layer, want it absent", p)
	}
}

// paths lists every entry's path ("" for the root) with a kind suffix.
func paths(l *Layer) []string {
	var out []string
	for id := ID(0); int(id) < l.Len(); id++ {
		var e Entry
		l.Entry(id, &e)
		out = append(out, l.Path(id)+":"+e.Kind.String())
	}
	slices.Sort(out)
	return out
}

// content reads a regular file whole through ReadAt.
func content(t testing.TB, l *Layer, p string) string {
	t.Helper()
	id, e := must(t, l, p)
	buf := make([]byte, e.Size)
	n, err := l.ReadAt(id, buf, 0)
	if err != nil && !(err == io.EOF && n == len(buf)) {
		t.Fatalf("read %s: %v", p, err)
	}
	return string(buf[:n])
}

// checkLayer verifies everything that must hold of any layer that opened:
// the tree, names, sorting, lookups, paths, hardlink groups, extents and
// reads within bounds. It reads at most 1 MiB of each file.
func checkLayer(l *Layer) error {
	n := l.Len()
	if n < 1 {
		return errors.New("no root")
	}
	var root Entry
	l.Entry(Root, &root)
	if root.Kind != KindDir || root.Name != "" || l.Parent(Root) != Root {
		return fmt.Errorf("bad root %+v", root)
	}
	var biggest int64 = 1
	for id := ID(0); int(id) < n; id++ {
		var e Entry
		l.Entry(id, &e)
		biggest = max(biggest, e.Size)
	}
	buf := make([]byte, min(biggest, 1<<20))
	for id := ID(0); int(id) < n; id++ {
		var e Entry
		l.Entry(id, &e)
		p := l.Path(id)
		if id != Root && (p == "" || path.Clean("/"+p) != "/"+p || strings.Contains(p, "..") && slices.Contains(strings.Split(p, "/"), "..")) {
			return fmt.Errorf("entry %d: unclean path %q", id, p)
		}
		if got, ok := lookup(l, p); !ok || got != id {
			return fmt.Errorf("entry %d: path %q looks up as %d, %v", id, p, got, ok)
		}
		if !e.Kind.valid() || e.Mode&^0o7777 != 0 {
			return fmt.Errorf("entry %d %q: kind %v mode %o", id, p, e.Kind, e.Mode)
		}
		first, c := l.Children(id)
		if c > 0 && e.Kind != KindDir {
			return fmt.Errorf("entry %d %q: %v with children", id, p, e.Kind)
		}
		prev := ""
		for k := 0; k < c; k++ {
			ch := first + ID(k)
			var ce Entry
			l.Entry(ch, &ce)
			if l.Parent(ch) != id {
				return fmt.Errorf("child %d of %d has parent %d", ch, id, l.Parent(ch))
			}
			if k > 0 && ce.Name <= prev {
				return fmt.Errorf("children of %q not sorted: %q after %q", p, ce.Name, prev)
			}
			if ce.Name == "" || ce.Name == "." || ce.Name == ".." || strings.ContainsAny(ce.Name, "/\x00") || len(ce.Name) > 255 {
				return fmt.Errorf("child of %q badly named %q", p, ce.Name)
			}
			prev = ce.Name
		}
		links := l.Links(id)
		if uint32(len(links)) != e.Nlink || !slices.Contains(links, id) || links[0] != e.Inode {
			return fmt.Errorf("entry %d %q: links %v, nlink %d, inode %d", id, p, links, e.Nlink, e.Inode)
		}
		for _, m := range links {
			var me Entry
			l.Entry(m, &me)
			if me.Inode != e.Inode || me.Nlink != e.Nlink || me.Kind != e.Kind {
				return fmt.Errorf("entry %d %q: link group member %d disagrees", id, p, m)
			}
		}
		l.Xattrs(id, func(name string, value []byte) {
			if name == "" {
				panic("empty xattr name")
			}
			_ = len(value)
		})
		if e.Kind != KindReg {
			if len(l.Extents(id)) != 0 {
				return fmt.Errorf("entry %d %q: %v with extents", id, p, e.Kind)
			}
			if _, err := l.ReadAt(id, buf[:1], 0); err == nil {
				return fmt.Errorf("entry %d %q: ReadAt of a %v succeeded", id, p, e.Kind)
			}
			continue
		}
		var end int64
		for _, x := range l.Extents(id) {
			if x.Len <= 0 || x.Off < end || x.Off+x.Len > e.Size || x.TarOff < 0 {
				return fmt.Errorf("entry %d %q: bad extent %+v (size %d)", id, p, x, e.Size)
			}
			end = x.Off + x.Len
		}
		for _, off := range []int64{0, max(0, e.Size-int64(len(buf)))} {
			want := min(int64(len(buf)), e.Size-off)
			got, err := l.ReadAt(id, buf, off)
			if int64(got) != want || (want < int64(len(buf)) && err != io.EOF) || (want == int64(len(buf)) && err != nil) {
				return fmt.Errorf("entry %d %q: ReadAt(%d) = %d, %v; want %d", id, p, off, got, err, want)
			}
		}
		if _, err := l.ReadAt(id, buf[:1], e.Size); err != io.EOF {
			return fmt.Errorf("entry %d %q: ReadAt at size: %v", id, p, err)
		}
	}
	// Out-of-range IDs read as nothing.
	bad := ID(n)
	var e Entry
	l.Entry(bad, &e)
	if e != (Entry{}) || l.Path(bad) != "" || len(l.Links(bad)) != 0 || len(l.Extents(bad)) != 0 {
		return errors.New("out-of-range ID reads as something")
	}
	if _, c := l.Children(bad); c != 0 {
		return errors.New("out-of-range ID has children")
	}
	if _, err := l.ReadAt(bad, buf[:1], 0); err == nil {
		return errors.New("out-of-range ID reads")
	}
	return nil
}

// dirEntries lists the names in dir, to check nothing was left behind.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
