package ctrcopy

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDockerRules runs every row of docker cp's SRC/DST table with real
// files. Paths in the table are relative to a fresh temp dir holding
// src/{file,dir/a,dir/sub/b,linkdir -> dir} and dst/{existingdir/,
// existingfile, linktodir -> existingdir}.
func TestDockerRules(t *testing.T) {
	rows := []struct {
		name     string
		src, dst string
		follow   bool
		packErr  error
		err      error
		want     []string // tree of dst/ afterwards, when no error
	}{
		{name: "file into existing dir", src: "src/file", dst: "dst/existingdir",
			want: []string{"existingdir/", "existingdir/file=hello"}},
		{name: "file into existing dir with slash", src: "src/file", dst: "dst/existingdir/",
			want: []string{"existingdir/", "existingdir/file=hello"}},
		{name: "file to new name", src: "src/file", dst: "dst/new",
			want: []string{"existingdir/", "new=hello"}},
		{name: "file to missing dir with slash", src: "src/file", dst: "dst/new/", err: ErrDirNotExist},
		{name: "file over existing file", src: "src/file", dst: "dst/existingfile",
			want: []string{"existingdir/", "existingfile=hello"}},
		{name: "file onto file with slash", src: "src/file", dst: "dst/existingfile/", err: ErrNotDir},
		{name: "file with missing parent", src: "src/file", dst: "dst/missing/new", err: ErrNoParent},
		{name: "file below a file", src: "src/file", dst: "dst/existingfile/new", err: ErrNoParent},
		{name: "file through dst symlink to dir", src: "src/file", dst: "dst/linktodir",
			want: []string{"existingdir/", "existingdir/file=hello"}},
		{name: "dir into existing dir", src: "src/dir", dst: "dst/existingdir",
			want: []string{"existingdir/", "existingdir/dir/", "existingdir/dir/a=A", "existingdir/dir/sub/", "existingdir/dir/sub/b=B"}},
		{name: "dir to new name", src: "src/dir", dst: "dst/new",
			want: []string{"existingdir/", "new/", "new/a=A", "new/sub/", "new/sub/b=B"}},
		{name: "dir to new name with slash", src: "src/dir", dst: "dst/new/",
			want: []string{"existingdir/", "new/", "new/a=A", "new/sub/", "new/sub/b=B"}},
		{name: "dir onto file", src: "src/dir", dst: "dst/existingfile", err: ErrCannotCopyDir},
		{name: "dir onto file with slash", src: "src/dir", dst: "dst/existingfile/", err: ErrNotDir},
		{name: "dir with missing parent", src: "src/dir", dst: "dst/missing/new", err: ErrNoParent},
		{name: "dir contents into existing dir", src: "src/dir/.", dst: "dst/existingdir",
			want: []string{"existingdir/", "existingdir/a=A", "existingdir/sub/", "existingdir/sub/b=B"}},
		{name: "dir contents to new name", src: "src/dir/.", dst: "dst/new",
			want: []string{"existingdir/", "new/", "new/a=A", "new/sub/", "new/sub/b=B"}},
		{name: "dir contents onto file", src: "src/dir/.", dst: "dst/existingfile", err: ErrCannotCopyDir},
		{name: "file contents", src: "src/file/.", dst: "dst/new", packErr: ErrNotDir},
		{name: "file with slash", src: "src/file/", dst: "dst/new", packErr: ErrNotDir},
		{name: "missing source", src: "src/nothing", dst: "dst/new", packErr: fs.ErrNotExist},
		{name: "symlink source is the link", src: "src/linkdir", dst: "dst/existingdir",
			want: []string{"existingdir/", "existingdir/linkdir -> dir"}},
		{name: "symlink source with -L is its target under the link's name", src: "src/linkdir", dst: "dst/existingdir", follow: true,
			want: []string{"existingdir/", "existingdir/linkdir/", "existingdir/linkdir/a=A", "existingdir/linkdir/sub/", "existingdir/linkdir/sub/b=B"}},
		{name: "symlink source with slash is followed", src: "src/linkdir/", dst: "dst/new",
			want: []string{"existingdir/", "new/", "new/a=A", "new/sub/", "new/sub/b=B"}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			tmp := t.TempDir()
			write(t, tmp, "src/file", "hello", 0o640)
			write(t, tmp, "src/dir/a", "A", 0o644)
			write(t, tmp, "src/dir/sub/b", "B", 0o600)
			symlink(t, "dir", filepath.Join(tmp, "src/linkdir"))
			mkdir(t, tmp, "dst/existingdir")
			write(t, tmp, "dst/existingfile", "old", 0o644)
			symlink(t, "existingdir", filepath.Join(tmp, "dst/linktodir"))
			src := filepath.Join(tmp, r.src)
			dst := filepath.Join(tmp, r.dst)
			if strings.HasSuffix(r.src, "/") {
				src += "/"
			}
			if strings.HasSuffix(r.dst, "/") {
				dst += "/"
			}
			if strings.HasSuffix(r.src, "/.") {
				src = filepath.Join(tmp, strings.TrimSuffix(r.src, "/.")) + "/."
			}
			var buf bytes.Buffer
			_, perr := Pack(&buf, src, PackOptions{FollowLink: r.follow})
			if r.packErr != nil || perr != nil {
				if !errors.Is(perr, r.packErr) {
					t.Fatalf("Pack error = %v, want %v", perr, r.packErr)
				}
				t.Logf("Pack error: %v", perr)
				return
			}
			err := Unpack(&buf, dst, UnpackOptions{})
			if r.err != nil || err != nil {
				if !errors.Is(err, r.err) {
					t.Fatalf("Unpack error = %v, want %v", err, r.err)
				}
				if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), dst) {
					t.Errorf("error %q is not one line naming %s", err, dst)
				}
				t.Logf("Unpack error: %v", err)
				return
			}
			got := listTree(t, filepath.Join(tmp, "dst"))
			got = slices.DeleteFunc(got, func(s string) bool {
				return s == "existingfile=old" || s == "linktodir -> existingdir"
			})
			if !slices.Equal(got, r.want) {
				t.Errorf("dst holds\n%q\nwant\n%q", got, r.want)
			}
			noTemps(t, tmp)
		})
	}
}
