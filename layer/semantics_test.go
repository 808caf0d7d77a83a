package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestDuplicatesLastWins(t *testing.T) {
	data := newTar(t).
		file("f", "first").
		file("f", "second").
		dir("d", 0o700).
		file("d/keep", "kept").
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o711, Uid: 7, PAXRecords: map[string]string{"SCHILY.xattr.user.b": "2"}}, "").
		// A file replacing a directory takes its subtree away.
		dir("gone", 0o755).
		file("gone/child", "x").
		dir("gone/sub", 0o755).
		file("gone/sub/deeper", "y").
		file("gone", "now a file").
		// A directory replacing a file.
		file("wasfile", "z").
		dir("wasfile", 0o750).
		file("wasfile/inside", "i").
		// A symlink replacing a file.
		file("s", "data").
		symlink("s", "target").
		bytes()
	l, info, _ := create(t, data)
	if got := content(t, l, "f"); got != "second" {
		t.Errorf("f = %q", got)
	}
	_, d := must(t, l, "d")
	if d.Mode != 0o711 || d.Uid != 7 {
		t.Errorf("d %+v, want the second header's metadata", d)
	}
	if got := content(t, l, "d/keep"); got != "kept" {
		t.Errorf("d/keep = %q", got)
	}
	if got := content(t, l, "gone"); got != "now a file" {
		t.Errorf("gone = %q", got)
	}
	absent(t, l, "gone/child")
	absent(t, l, "gone/sub")
	if _, e := must(t, l, "wasfile"); e.Kind != KindDir || e.Mode != 0o750 {
		t.Errorf("wasfile %+v", e)
	}
	if got := content(t, l, "wasfile/inside"); got != "i" {
		t.Errorf("wasfile/inside = %q", got)
	}
	if _, e := must(t, l, "s"); e.Kind != KindSymlink || e.Link != "target" {
		t.Errorf("s %+v", e)
	}
	if info.Dropped != 0 {
		t.Errorf("dropped %d", info.Dropped)
	}
	want := []string{":dir", "d/keep:reg", "d:dir", "f:reg", "gone:reg", "s:symlink", "wasfile/inside:reg", "wasfile:dir"}
	if got := paths(l); !slices.Equal(got, want) {
		t.Errorf("paths %v, want %v", got, want)
	}
}

func TestDirOverDirMergesXattrs(t *testing.T) {
	data := newTar(t).
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o755, PAXRecords: map[string]string{"SCHILY.xattr.user.a": "1", "SCHILY.xattr.user.b": "old"}}, "").
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o700, PAXRecords: map[string]string{"SCHILY.xattr.user.b": "new", "SCHILY.xattr.user.c": "3"}}, "").
		bytes()
	l, _, _ := create(t, data)
	id, _ := must(t, l, "d")
	var got []string
	l.Xattrs(id, func(n string, v []byte) { got = append(got, n+"="+string(v)) })
	if fmt.Sprint(got) != "[user.a=1 user.b=new user.c=3]" {
		t.Fatalf("xattrs %v", got)
	}
}

func TestImplicitDirThenHeader(t *testing.T) {
	data := newTar(t).file("a/b/f", "x").dir("a", 0o700).bytes()
	l, _, _ := create(t, data)
	if _, e := must(t, l, "a"); e.Implicit || e.Mode != 0o700 {
		t.Errorf("a %+v, want the header's metadata", e)
	}
	if _, e := must(t, l, "a/b"); !e.Implicit {
		t.Errorf("a/b %+v, want implicit", e)
	}
}

func TestParentIsNotADirectory(t *testing.T) {
	data := newTar(t).file("f", "x").file("f/g", "y").symlink("s", "d").file("s/h", "z").bytes()
	l, info, _ := create(t, data)
	if info.Dropped != 2 {
		t.Errorf("dropped %d, want 2", info.Dropped)
	}
	absent(t, l, "f/g")
	absent(t, l, "s/h")
	if got := content(t, l, "f"); got != "x" {
		t.Errorf("f = %q", got)
	}
}

func TestHardlinks(t *testing.T) {
	data := newTar(t).
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/a", Mode: 0o755, PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "cap"}}, "shared data").
		link("bin/b", "bin/a").
		link("./sbin/c", "/bin/b").
		link("bin/missing", "bin/nothere").
		link("bin/todir", "bin").
		link("bin/early", "bin/late").
		link("newdir/x", "bin/nothere"). // dropped, and no newdir made for it
		file("bin/late", "late").
		symlink("sym", "bin/a").
		link("symlink-link", "sym").
		bytes()
	l, info, _ := create(t, data)
	if info.Dropped != 4 {
		t.Errorf("dropped %d, want 4 (missing, directory and later targets)", info.Dropped)
	}
	absent(t, l, "newdir")
	absent(t, l, "bin/missing")
	absent(t, l, "bin/todir")
	absent(t, l, "bin/early")
	aID, a := must(t, l, "bin/a")
	bID, b := must(t, l, "bin/b")
	cID, c := must(t, l, "sbin/c")
	for _, e := range []Entry{a, b, c} {
		if e.Nlink != 3 || e.Inode != a.Inode || e.Kind != KindReg || e.Size != 11 {
			t.Errorf("%s: %+v", e.Name, e)
		}
	}
	wantLinks := []ID{aID, bID, cID}
	slices.Sort(wantLinks)
	if got := l.Links(bID); !slices.Equal(got, wantLinks) {
		t.Errorf("Links %v, want %v", got, wantLinks)
	}
	if a.Inode != wantLinks[0] {
		t.Errorf("inode %d, want the group's smallest ID %d", a.Inode, wantLinks[0])
	}
	if got := content(t, l, "sbin/c"); got != "shared data" {
		t.Errorf("sbin/c = %q", got)
	}
	if !slices.Equal(l.Extents(aID), l.Extents(cID)) {
		t.Errorf("extents differ: %v %v", l.Extents(aID), l.Extents(cID))
	}
	var caps int
	l.Xattrs(cID, func(n string, v []byte) {
		if n == "security.capability" && string(v) == "cap" {
			caps++
		}
	})
	if caps != 1 {
		t.Error("link lacks the group's xattrs")
	}
	_, sl := must(t, l, "symlink-link")
	_, sym := must(t, l, "sym")
	if sl.Kind != KindSymlink || sl.Link != "bin/a" || sl.Nlink != 2 || sym.Nlink != 2 || sl.Inode != sym.Inode {
		t.Errorf("hardlink to a symlink %+v / %+v", sl, sym)
	}
}

func TestHardlinkKeepsDataWhenTargetOverwritten(t *testing.T) {
	data := newTar(t).
		file("orig", "old data").
		link("link", "orig").
		file("orig", "new data").
		bytes()
	l, _, _ := create(t, data)
	if got := content(t, l, "link"); got != "old data" {
		t.Errorf("link = %q, want the data it was linked to", got)
	}
	if got := content(t, l, "orig"); got != "new data" {
		t.Errorf("orig = %q", got)
	}
	_, link := must(t, l, "link")
	_, orig := must(t, l, "orig")
	if link.Nlink != 1 || orig.Nlink != 1 || link.Inode == orig.Inode {
		t.Errorf("link %+v orig %+v, want separate single-name inodes", link, orig)
	}
}

func TestHardlinkHeaderMetadataApplies(t *testing.T) {
	// As containerd and Docker extract: chown/chmod/utimes on the new name
	// reach the shared inode.
	data := newTar(t).
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "a", Mode: 0o644, Uid: 1}, "x").
		add(&tar.Header{Typeflag: tar.TypeLink, Name: "b", Linkname: "a", Mode: 0o600, Uid: 2}, "").
		bytes()
	l, _, _ := create(t, data)
	for _, p := range []string{"a", "b"} {
		if _, e := must(t, l, p); e.Mode != 0o600 || e.Uid != 2 {
			t.Errorf("%s: %+v", p, e)
		}
	}
}

func TestHardlinkGroupShrinks(t *testing.T) {
	data := newTar(t).
		file("a", "x").
		link("b", "a").
		link("c", "a").
		dir("c", 0o755). // replaces one name of the group
		link("a", "a").  // a link to itself stays in the group
		bytes()
	l, _, _ := create(t, data)
	aID, a := must(t, l, "a")
	bID, b := must(t, l, "b")
	if a.Nlink != 2 || b.Nlink != 2 || a.Inode != b.Inode {
		t.Errorf("a %+v b %+v", a, b)
	}
	want := []ID{min(aID, bID), max(aID, bID)}
	if got := l.Links(aID); !slices.Equal(got, want) {
		t.Errorf("Links %v, want %v", got, want)
	}
}

func TestWhiteouts(t *testing.T) {
	data := newTar(t).
		dir("etc", 0o755).
		file("etc/.wh.passwd", "").
		file("etc/.wh..wh..opq", "").
		file("var/lib/.wh..wh..opq", ""). // makes var/lib implicitly
		file("usr/.wh.share", "").
		file(".wh..wh.plnk", "").   // AUFS metadata: dropped
		file("x/.wh..wh.aufs", ""). // likewise
		file("y/.wh.", "").         // no name: dropped
		file(".wh.sub/file", "").   // a whiteout name as a directory: dropped
		file("p/q/.wh.r/s", "").    // likewise, deeper, and no parents made
		file("z/.wh.keep", "").     // real entry after its whiteout:
		file("z/keep", "real").     //   the real one stays
		file("z/other", "real").    // whiteout after the real entry:
		file("z/.wh.other", "").    //   the real one stays
		dir("w", 0o755).            // a directory and its whiteout:
		file(".wh.w", "").          //   the directory hides the lower one
		file(".wh.v", "").          // a whiteout, then a directory by
		file("v/inside", "in").     //   implication: opaque too
		bytes()
	l, info, _ := create(t, data)
	if _, e := must(t, l, "etc"); !e.Opaque || e.Kind != KindDir {
		t.Errorf("etc %+v, want opaque", e)
	}
	if _, e := must(t, l, "etc/passwd"); e.Kind != KindWhiteout {
		t.Errorf("etc/passwd %+v, want a whiteout", e)
	}
	absent(t, l, "etc/.wh.passwd")
	absent(t, l, "etc/.wh..wh..opq")
	if _, e := must(t, l, "var/lib"); !e.Opaque || !e.Implicit {
		t.Errorf("var/lib %+v, want implicit and opaque", e)
	}
	if _, e := must(t, l, "var"); e.Opaque {
		t.Errorf("var opaque")
	}
	if _, e := must(t, l, "usr/share"); e.Kind != KindWhiteout {
		t.Errorf("usr/share %+v", e)
	}
	absent(t, l, "x")
	absent(t, l, "y")
	absent(t, l, "p")
	absent(t, l, ".wh.sub")
	absent(t, l, "sub")
	absent(t, l, "x/.wh..wh.aufs")
	if got := content(t, l, "z/keep"); got != "real" {
		t.Errorf("z/keep = %q", got)
	}
	if got := content(t, l, "z/other"); got != "real" {
		t.Errorf("z/other = %q", got)
	}
	if _, e := must(t, l, "w"); e.Kind != KindDir || !e.Opaque {
		t.Errorf("w %+v, want an opaque directory", e)
	}
	if _, e := must(t, l, "v"); e.Kind != KindDir || !e.Opaque || !e.Implicit {
		t.Errorf("v %+v, want an implicit opaque directory", e)
	}
	// Dropped: plnk, aufs, ".wh.", .wh.sub/file, p/q/.wh.r/s, the whiteouts
	// of z/keep, z/other, w and v.
	if info.Dropped != 9 {
		t.Errorf("dropped %d, want 9; have %v", info.Dropped, paths(l))
	}
}

func TestRepeatedWhiteout(t *testing.T) {
	data := newTar(t).file(".wh.a", "").file(".wh.a", "").bytes()
	l, info, _ := create(t, data)
	if _, e := must(t, l, "a"); e.Kind != KindWhiteout {
		t.Errorf("a %+v", e)
	}
	if info.Dropped != 0 || l.Len() != 2 {
		t.Errorf("dropped %d, %d entries", info.Dropped, l.Len())
	}
}

func TestSparseHandMade(t *testing.T) {
	// PAX 1.0: the map in the first data block, then the data.
	one := new(rawTar).pax("GNU.sparse.major", "1", "GNU.sparse.minor", "0", "GNU.sparse.name", "s", "GNU.sparse.realsize", "2048").
		file("GNUSparseFile/s", "1\n0\n5\n"+strings.Repeat("\x00", 506)+"hello").end()
	// PAX 0.0: repeated offset/numbytes records.
	zero := new(rawTar).pax("GNU.sparse.numblocks", "2", "GNU.sparse.offset", "100", "GNU.sparse.numbytes", "3",
		"GNU.sparse.offset", "150", "GNU.sparse.numbytes", "2", "GNU.sparse.size", "200").
		file("s", "abcde").end()
	for name, c := range map[string]struct {
		data []byte
		size int64
		want map[int64]string
	}{
		"1.0": {one, 2048, map[int64]string{0: "hello"}},
		"0.0": {zero, 200, map[int64]string{100: "abc", 150: "de"}},
	} {
		t.Run(name, func(t *testing.T) {
			l, _, _ := create(t, c.data)
			id, e := must(t, l, "s")
			if e.Size != c.size || !e.Sparse {
				t.Fatalf("s %+v", e)
			}
			want := make([]byte, c.size)
			for off, s := range c.want {
				copy(want[off:], s)
			}
			if got := content(t, l, "s"); got != string(want) {
				t.Fatalf("content %q", got)
			}
			if n := len(l.Extents(id)); n != len(c.want) {
				t.Fatalf("%d extents", n)
			}
		})
	}
	// Maps that disagree with the stored data fail Create.
	for name, data := range map[string][]byte{
		"more mapped than stored": new(rawTar).pax("GNU.sparse.numblocks", "1", "GNU.sparse.offset", "0", "GNU.sparse.numbytes", "10", "GNU.sparse.size", "20").file("s", "abc").end(),
		"less mapped than stored": new(rawTar).pax("GNU.sparse.numblocks", "1", "GNU.sparse.offset", "0", "GNU.sparse.numbytes", "1", "GNU.sparse.size", "20").file("s", "abc").end(),
		"beyond the size":         new(rawTar).pax("GNU.sparse.numblocks", "1", "GNU.sparse.offset", "19", "GNU.sparse.numbytes", "3", "GNU.sparse.size", "20").file("s", "abc").end(),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Create(context.Background(), bytes.NewReader(data), dir); err == nil {
				t.Fatal("accepted")
			}
			if got := dirEntries(t, dir); len(got) != 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestWhiteoutIsItsNameAlone(t *testing.T) {
	// Whatever the type or attributes of a .wh. entry, it is a whiteout.
	data := newTar(t).
		link(".wh.a", ".").
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: ".wh.b"}, "").
		add(&tar.Header{Typeflag: 'V', Name: ".wh.c"}, "").
		add(&tar.Header{Typeflag: tar.TypeDir, Name: ".wh.d/", Uid: -1}, "").
		bytes()
	l, info, _ := create(t, data)
	for _, p := range []string{"a", "b", "c", "d"} {
		if _, e := must(t, l, p); e.Kind != KindWhiteout {
			t.Errorf("%s: %+v", p, e)
		}
	}
	if info.Dropped != 0 {
		t.Errorf("dropped %d", info.Dropped)
	}
}
