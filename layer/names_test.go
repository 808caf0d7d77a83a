package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	long := strings.Repeat("x", 256)
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"../../etc/x", "etc/x", true},
		{"/abs/p", "abs/p", true},
		{"./a//b/", "a/b", true},
		{"a/../../b", "b", true},
		{".", "", true},
		{"./", "", true},
		{"/", "", true},
		{"..", "", true},
		{"", "", true},
		{"a/./b/.", "a/b", true},
		{"a\x00b", "", false},
		{"d/" + long, "", false},
		{strings.Repeat("x", 255), strings.Repeat("x", 255), true},
		{strings.Repeat("a/", maxPathLen/2+1), "", false},
	} {
		got, ok := cleanName(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("cleanName(%.40q) = %.40q, %v; want %.40q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestNamesNormalised(t *testing.T) {
	var r rawTar
	r.file("../../etc/x", "1").file("/abs/p", "2").file("./a//b/", "3")
	data := append(r.Bytes(), newTar(t).
		add(&tar.Header{Typeflag: tar.TypeDir, Name: ".", Mode: 0o700, Uid: 5}, "").
		bytes()...)
	l, info, _ := create(t, data)
	if got := content(t, l, "etc/x"); got != "1" {
		t.Errorf("etc/x = %q", got)
	}
	if got := content(t, l, "abs/p"); got != "2" {
		t.Errorf("abs/p = %q", got)
	}
	if got := content(t, l, "a/b"); got != "3" {
		t.Errorf("a/b = %q", got)
	}
	var root Entry
	l.Entry(Root, &root)
	if root.Mode != 0o700 || root.Uid != 5 || root.Implicit {
		t.Errorf("root %+v, want the \".\" header's attributes", root)
	}
	if info.Dropped != 0 {
		t.Errorf("dropped %d", info.Dropped)
	}
}

func TestNamesDropped(t *testing.T) {
	long := strings.Repeat("n", 256)
	deep := strings.Repeat("d/", maxPathLen/2) + "f"
	data := newTar(t).
		file("ok", "1").
		file("dir/"+long, "too long a component").
		file(deep, "too long a path").
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "."}, "a file as the root").
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "/"}, "").
		add(&tar.Header{Typeflag: 'V', Name: "volume label"}, "").
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "empty-target"}, "").
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "long-target", Linkname: strings.Repeat("t", maxLinkLen+1)}, "").
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "uid-minus-one", Uid: -1}, "").
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "uid-too-big", Uid: 1 << 33, Format: tar.FormatPAX}, "").
		add(&tar.Header{Typeflag: tar.TypeReg, Name: "gid-max", Gid: 1<<32 - 1, Format: tar.FormatPAX}, "").
		add(&tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}, "").
		bytes()
	l, info, _ := create(t, data)
	if info.Dropped != 10 {
		t.Errorf("dropped %d, want 10; have %v", info.Dropped, paths(l))
	}
	if got := paths(l); strings.Join(got, " ") != ":dir ok:reg" {
		t.Errorf("paths %v", got)
	}
	absent(t, l, "dir/"+long)
	absent(t, l, "volume label")
	absent(t, l, "global")
	var root Entry
	l.Entry(Root, &root)
	if root.Kind != KindDir {
		t.Errorf("root replaced: %+v", root)
	}
	// The maximum allowed: a 255-byte component and a 4095-byte target.
	ok := newTar(t).
		file(strings.Repeat("m", 255), "x").
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "s", Linkname: strings.Repeat("t", maxLinkLen)}, "").
		bytes()
	l, info, _ = create(t, ok)
	if info.Dropped != 0 {
		t.Fatalf("dropped %d at the limits", info.Dropped)
	}
	if _, e := must(t, l, "s"); len(e.Link) != maxLinkLen {
		t.Fatalf("target of %d bytes", len(e.Link))
	}
}

// archive/tar itself refuses a PAX path with a NUL, so such a tar fails as
// a whole (a USTAR name field simply ends at its first NUL).
func TestNULInPAXPath(t *testing.T) {
	var r rawTar
	data := r.pax("path", "a\x00b").file("plain", "x").end()
	dir := t.TempDir()
	if _, err := Create(context.Background(), bytes.NewReader(data), dir); err == nil {
		t.Fatal("PAX path with NUL accepted")
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestOversizedHeaders(t *testing.T) {
	huge := strings.Repeat("a/", (1<<20)/2+10) + "f"
	for name, data := range map[string][]byte{
		"pax path":      new(rawTar).pax("path", huge).file("x", "").end(),
		"pax xattr":     new(rawTar).pax("SCHILY.xattr.user.big", strings.Repeat("v", 1<<20)).file("x", "").end(),
		"gnu long name": new(rawTar).header("././@LongLink", 'L', int64(len(huge)+1), "").data([]byte(huge+"\x00")).file("x", "").end(),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Create(context.Background(), bytes.NewReader(data), dir)
			if err == nil || !strings.Contains(err.Error(), "too long") {
				t.Fatalf("err %.200v, want a clear error", err)
			}
			if got := dirEntries(t, dir); len(got) != 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
	// Under archive/tar's limit but over maxPathLen the name is refused by
	// the index and counted, not failed.
	data := newTar(t).add(&tar.Header{Typeflag: tar.TypeReg, Name: strings.Repeat("a/", 200<<10/2) + "f", Format: tar.FormatPAX}, "").bytes()
	_, info, _ := create(t, data)
	if info.Dropped != 1 {
		t.Fatalf("dropped %d", info.Dropped)
	}
}

func TestXattrLimits(t *testing.T) {
	data := newTar(t).add(&tar.Header{Typeflag: tar.TypeReg, Name: "f", PAXRecords: map[string]string{
		"SCHILY.xattr.user.ok":                     "v",
		"SCHILY.xattr." + strings.Repeat("n", 256): "name too long",
		"SCHILY.xattr.user.big":                    strings.Repeat("v", maxXattrValue+1),
		"SCHILY.xattr.":                            "no name",
	}}, "").bytes()
	l, _, _ := create(t, data)
	id, _ := must(t, l, "f")
	var names []string
	l.Xattrs(id, func(name string, _ []byte) { names = append(names, name) })
	if strings.Join(names, ",") != "user.ok" {
		t.Fatalf("xattrs %v", names)
	}
}

func TestModeTypeBitsMasked(t *testing.T) {
	data := newTar(t).add(&tar.Header{Typeflag: tar.TypeReg, Name: "f", Mode: 0o100000 | 0o7777}, "").
		add(&tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o40000 | 0o1777}, "").bytes()
	l, _, _ := create(t, data)
	if _, e := must(t, l, "f"); e.Mode != 0o7777 {
		t.Errorf("f mode %o", e.Mode)
	}
	if _, e := must(t, l, "d"); e.Mode != 0o1777 {
		t.Errorf("d mode %o", e.Mode)
	}
}

func TestEntryLimit(t *testing.T) {
	b := newTar(t)
	for i := range 10 {
		b.file("f"+itoa(i), "")
	}
	data := b.bytes()
	create(t, data, withMaxEntries(11)) // the root and ten files fit
	dir := t.TempDir()
	_, err := Create(context.Background(), bytes.NewReader(data), dir, withMaxEntries(10))
	if err == nil || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("err %v, want ErrLimit", err)
	}
	if got := dirEntries(t, dir); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
	// Implicit parents count too: one deep name needs many entries.
	deep := newTar(t).file(strings.Repeat("d/", 20)+"f", "").bytes()
	if _, err := Create(context.Background(), bytes.NewReader(deep), dir, withMaxEntries(10)); err == nil {
		t.Fatal("deep name under the limit accepted")
	}
}

func TestInsecurePathGodebug(t *testing.T) {
	// With archive/tar's strict mode on, names are still taken and cleaned.
	t.Setenv("GODEBUG", "tarinsecurepath=0")
	l, _, _ := create(t, newTar(t).file("../../escape", "x").bytes())
	if got := content(t, l, "escape"); got != "x" {
		t.Fatalf("escape = %q", got)
	}
}
