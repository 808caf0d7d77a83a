package layer

import (
	"archive/tar"
	"fmt"
	"strings"
	"testing"
)

// A second, independent statement of the indexing rules over a flat map of
// paths (the builder keeps a tree), to check the builder against with
// generated entry sequences: FuzzSemantics.

type mEntry struct {
	kind     Kind
	ino      int // shared by a hardlink group; -1 for directories and whiteouts
	opaque   bool
	implicit bool
}

type model struct {
	m       map[string]*mEntry
	data    map[int]string // inode → content
	nextIno int
	dropped int
}

func newModel() *model {
	return &model{m: map[string]*mEntry{"": {kind: KindDir, ino: -1, implicit: true}}, data: map[int]string{}}
}

// apply is one tar entry: typ is a tar type flag; data the content of a
// file or the target of a link.
func (md *model) apply(typ byte, name, data string) {
	p, ok := cleanName(name)
	if !ok {
		md.dropped++
		return
	}
	if p == "" {
		if typ == tar.TypeDir {
			md.m[""].implicit = false
		} else {
			md.dropped++
		}
		return
	}
	dir, base := splitDir(p)
	for _, c := range strings.Split(dir, "/") {
		if strings.HasPrefix(c, ".wh.") {
			md.dropped++
			return
		}
	}
	if typ == tar.TypeLink && !strings.HasPrefix(base, ".wh.") {
		t, ok := cleanName(data)
		e, found := md.m[t]
		if !ok || t == "" || !found || e.kind == KindDir || e.kind == KindWhiteout {
			md.dropped++
			return
		}
	}
	if strings.HasPrefix(base, ".wh.") && base != ".wh..wh..opq" &&
		(strings.HasPrefix(base, ".wh..wh.") || base == ".wh." || base == ".wh.." || base == ".wh...") {
		md.dropped++
		return
	}
	if !md.ensure(dir) {
		return
	}
	if strings.HasPrefix(base, ".wh.") {
		switch {
		case base == ".wh..wh..opq":
			md.m[dir].opaque = true
		default:
			q := join(dir, base[4:])
			if e, ok := md.m[q]; ok {
				if e.kind != KindWhiteout {
					md.dropped++
					if e.kind == KindDir {
						e.opaque = true
					}
				}
				return
			}
			md.m[q] = &mEntry{kind: KindWhiteout, ino: -1}
		}
		return
	}
	var kind Kind
	ino := -1
	switch typ {
	case tar.TypeLink:
		t, _ := cleanName(data)
		e := md.m[t] // checked above, and ensure makes no files
		kind, ino = e.kind, e.ino
	case tar.TypeDir:
		kind = KindDir
	default:
		kind = map[byte]Kind{tar.TypeReg: KindReg, tar.TypeSymlink: KindSymlink, tar.TypeFifo: KindFifo}[typ]
		md.nextIno++
		ino = md.nextIno
		md.data[ino] = data
	}
	opaque := false
	if e, ok := md.m[p]; ok {
		if e.kind == KindDir && kind == KindDir {
			e.implicit = false
			return
		}
		if e.kind == KindWhiteout {
			md.dropped++
			opaque = kind == KindDir
		}
		md.remove(p)
	}
	md.m[p] = &mEntry{kind: kind, ino: ino, opaque: opaque}
}

// ensure makes dir's missing ancestors (and dir) implicitly.
func (md *model) ensure(dir string) bool {
	if dir == "" {
		return true
	}
	parts := strings.Split(dir, "/")
	for i := range parts {
		q := strings.Join(parts[:i+1], "/")
		e, ok := md.m[q]
		switch {
		case !ok:
			md.m[q] = &mEntry{kind: KindDir, ino: -1, implicit: true}
		case e.kind == KindWhiteout:
			md.dropped++
			md.m[q] = &mEntry{kind: KindDir, ino: -1, implicit: true, opaque: true}
		case e.kind != KindDir:
			md.dropped++
			return false
		}
	}
	return true
}

func (md *model) remove(p string) {
	for q := range md.m {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(md.m, q)
		}
	}
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func (md *model) nlink(ino int) int {
	n := 0
	for _, e := range md.m {
		if e.ino == ino {
			n++
		}
	}
	return n
}

var fuzzNames = []string{
	"a", "b", "a/b", "a/c", "b/a", "a/b/c", "./a/", "../b", "/a/b", "c", ".",
	".wh.a", ".wh.b", "a/.wh.b", "a/.wh.c", "a/.wh..wh..opq", ".wh..wh..opq", "b/.wh..wh..opq",
	".wh..wh.plnk", "d/.wh.x/y", "a/b/.wh.c", ".wh.c", "c/d",
}

var fuzzTypes = []byte{tar.TypeReg, tar.TypeReg, tar.TypeDir, tar.TypeLink, tar.TypeLink, tar.TypeSymlink, tar.TypeFifo}

// FuzzSemantics builds a tar from ops (three bytes an entry: type, name,
// link target) and checks the layer against the model.
func FuzzSemantics(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 1, 0, 0, 0, 0})
	f.Add([]byte{2, 0, 0, 0, 2, 0, 0, 11, 0, 0, 0, 0, 2, 0, 0})
	f.Add([]byte{0, 2, 0, 3, 3, 2, 2, 0, 0, 3, 12, 5})
	f.Add([]byte{0, 0, 0, 11, 0, 0, 0, 1, 0, 3, 4, 2, 0, 2, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 3*64 {
			return
		}
		md := newModel()
		tb := newTar(t)
		for i := 0; i+2 < len(ops); i += 3 {
			typ := fuzzTypes[int(ops[i])%len(fuzzTypes)]
			name := fuzzNames[int(ops[i+1])%len(fuzzNames)]
			data := fmt.Sprintf("content %d", i)
			if typ != tar.TypeDir {
				name = strings.TrimSuffix(name, "/") // archive/tar refuses it
			}
			switch typ {
			case tar.TypeLink:
				data = fuzzNames[int(ops[i+2])%len(fuzzNames)]
				tb.add(&tar.Header{Typeflag: typ, Name: name, Linkname: data, Mode: 0o644}, "")
			case tar.TypeSymlink:
				data = "target" + fmt.Sprint(i)
				tb.add(&tar.Header{Typeflag: typ, Name: name, Linkname: data}, "")
			case tar.TypeReg:
				tb.add(&tar.Header{Typeflag: typ, Name: name, Mode: 0o644}, data)
			default:
				tb.add(&tar.Header{Typeflag: typ, Name: name, Mode: 0o755}, "")
			}
			md.apply(typ, name, data)
		}
		l, info, _ := create(t, tb.bytes(), withoutSync())
		if info.Dropped != md.dropped {
			t.Errorf("dropped %d, model %d", info.Dropped, md.dropped)
		}
		seen := map[string]bool{}
		inoOf := map[ID]int{} // layer inode → model inode
		for id := ID(0); int(id) < l.Len(); id++ {
			p := l.Path(id)
			seen[p] = true
			want, ok := md.m[p]
			var e Entry
			l.Entry(id, &e)
			if !ok {
				t.Fatalf("%q (%v) in the layer, not in the model", p, e.Kind)
			}
			if e.Kind != want.kind || e.Opaque != want.opaque || e.Implicit != want.implicit {
				t.Fatalf("%q: layer %v opaque %v implicit %v, model %v %v %v", p, e.Kind, e.Opaque, e.Implicit, want.kind, want.opaque, want.implicit)
			}
			if want.ino < 0 {
				continue
			}
			if n := md.nlink(want.ino); int(e.Nlink) != n {
				t.Fatalf("%q: nlink %d, model %d", p, e.Nlink, n)
			}
			if m, ok := inoOf[e.Inode]; ok && m != want.ino {
				t.Fatalf("%q: shares inode %d with another model inode", p, e.Inode)
			}
			inoOf[e.Inode] = want.ino
			switch e.Kind {
			case KindReg:
				if got := content(t, l, p); got != md.data[want.ino] {
					t.Fatalf("%q: content %q, model %q", p, got, md.data[want.ino])
				}
			case KindSymlink:
				if e.Link != md.data[want.ino] {
					t.Fatalf("%q: target %q, model %q", p, e.Link, md.data[want.ino])
				}
			}
		}
		for p := range md.m {
			if !seen[p] {
				t.Fatalf("%q in the model, not in the layer", p)
			}
		}
	})
}
