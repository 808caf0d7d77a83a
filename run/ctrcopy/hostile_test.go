package ctrcopy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestHostileArchives extracts archives a hostile container could send and
// checks that nothing lands outside the destination. Each runs in a temp
// dir holding outside/secret (the bait) and dst/ (the destination).
func TestHostileArchives(t *testing.T) {
	dirInfo := &Info{Name: "x", IsDir: true}
	cases := []struct {
		name string
		info *Info // in the archive; nil: a bare stream
		ents []ent
		dst  string // below the temp dir; default "dst"
		pre  func(t *testing.T, tmp string)
		err  error // nil: must succeed
		want []string
	}{
		{name: "dotdot", ents: []ent{file("../outside/evil", "E")}, err: ErrUnsafeEntry},
		{name: "dotdot inside", ents: []ent{file("a/../../outside/evil", "E")}, err: ErrUnsafeEntry},
		{name: "dotdot in rebased copy", info: dirInfo, ents: []ent{dir("x/"), file("x/../../outside/evil", "E")}, err: ErrUnsafeEntry},
		{name: "absolute name is made relative", ents: []ent{file("/outside/evil", "E")},
			want: []string{"outside/", "outside/evil=E"}},
		{name: "symlink then write through it", ents: []ent{link("a", "../outside"), file("a/evil", "E")}, err: ErrUnsafeEntry},
		{name: "absolute symlink then write through it", pre: absLink("abs"), ents: []ent{file("abs/evil", "E")}, err: ErrUnsafeEntry},
		{name: "symlink then dir through it", ents: []ent{link("a", "../outside"), dir("a/b/"), file("a/b/evil", "E")}, err: ErrUnsafeEntry},
		{name: "dir entry over a symlink", ents: []ent{link("a", "../outside"), dir("a/"), file("a/evil", "E")}, err: ErrReplace},
		{name: "file over a symlink replaces the link", ents: []ent{link("a", "../outside/secret"), file("a", "mine")},
			want: []string{"a=mine"}},
		{name: "file over a hardlink to outside does not write through it", pre: hardLink("hl"), ents: []ent{file("hl", "mine")},
			want: []string{"hl=mine"}},
		{name: "file over a directory", ents: []ent{dir("d/"), file("d", "E")}, err: ErrReplace},
		{name: "existing symlink in dst is not followed", pre: absLink("pre"), ents: []ent{file("pre/evil", "E")}, err: ErrUnsafeEntry},
		{name: "hardlink out with dotdot", ents: []ent{hardlink("h", "../outside/secret")}, err: ErrUnsafeEntry},
		{name: "hardlink through a symlink", ents: []ent{link("l", "../outside"), hardlink("h", "l/secret")}, err: ErrUnsafeEntry},
		{name: "hardlink to an absolute name stays inside", ents: []ent{hardlink("h", "/outside/secret")}, err: os.ErrNotExist},
		{name: "hardlink to itself", ents: []ent{file("f", "F"), hardlink("f", "f")}, want: []string{"f=F"}},
		{name: "hardlink to a symlink links the symlink", ents: []ent{link("l", "../outside/secret"), hardlink("h", "l")},
			want: []string{"h -> ../outside/secret", "l -> ../outside/secret"}},
		{name: "sibling of a created dst", info: dirInfo, dst: "dst/new", ents: []ent{dir("x/"), file("y", "E")}, err: ErrUnsafeEntry},
		{name: "sibling named like the prefix", info: dirInfo, dst: "dst/new", ents: []ent{dir("x/"), file("xy", "E")}, err: ErrUnsafeEntry},
		{name: "file info with a second entry", info: &Info{Name: "f"}, dst: "dst/new", ents: []ent{file("f", "F"), file("f/g", "G")}, err: ErrBadArchive},
		{name: "dir info with a file on top", info: dirInfo, dst: "dst/new", ents: []ent{file("x", "F")}, err: ErrBadArchive},
		{name: "file info with a dir on top", info: &Info{Name: "f"}, ents: []ent{dir("f/")}, err: ErrBadArchive},
		{name: "top name climbing out", info: &Info{Name: "../outside"}, ents: []ent{dir("../outside/")}, err: ErrUnsafeEntry},
		{name: "top name absolute", info: &Info{Name: "/outside"}, ents: []ent{dir("outside/")}, err: ErrUnsafeEntry},
		{name: "non-dir replacing dst itself", info: &Info{Name: ".", IsDir: true}, ents: []ent{file(".", "E")}, err: ErrBadArchive},
		{name: "bare stream replacing dst itself", ents: []ent{file(".", "E")}, err: ErrReplace},
		{name: "missing parents are made", ents: []ent{file("p/q/r", "R")}, want: []string{"p/", "p/q/", "p/q/r=R"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			secret := write(t, tmp, "outside/secret", "secret", 0o600)
			mkdir(t, tmp, "dst")
			if c.pre != nil {
				c.pre(t, tmp)
			}
			dst := filepath.Join(tmp, "dst")
			if c.dst != "" {
				dst = filepath.Join(tmp, c.dst)
			}
			err := Unpack(bytes.NewReader(mkTar(t, c.info, c.ents...)), dst, UnpackOptions{})
			if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("Unpack error = %v, want %v", err, c.err)
			}
			if err != nil {
				t.Logf("Unpack error: %v", err)
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
			}
			if got := listTree(t, filepath.Join(tmp, "outside")); !slices.Equal(got, []string{"secret=secret"}) {
				t.Errorf("outside/ changed: %q", got)
			}
			if st := lstat(t, secret); st.Nlink != 1 {
				t.Errorf("outside/secret has %d links", st.Nlink)
			}
			if c.want != nil {
				got := slices.DeleteFunc(listTree(t, filepath.Join(tmp, "dst")), func(s string) bool { return strings.HasPrefix(s, "pre") || strings.HasPrefix(s, "abs") })
				if !slices.Equal(got, c.want) {
					t.Errorf("dst holds %q, want %q", got, c.want)
				}
			}
			noTemps(t, tmp)
		})
	}
}

// hardLink makes dst/name a second name of outside/secret.
func hardLink(name string) func(t *testing.T, tmp string) {
	return func(t *testing.T, tmp string) {
		if err := os.Link(filepath.Join(tmp, "outside/secret"), filepath.Join(tmp, "dst", name)); err != nil {
			t.Fatal(err)
		}
	}
}

// absLink makes dst/name a symlink to the absolute path of outside/.
func absLink(name string) func(t *testing.T, tmp string) {
	return func(t *testing.T, tmp string) {
		symlink(t, filepath.Join(tmp, "outside"), filepath.Join(tmp, "dst", name))
	}
}
