package ctrcopy

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// write creates the file rel below root with content and mode (Unix
// bits: 0o4755 is setuid, which os.Chmod would drop), and its parents.
func write(t *testing.T, root, rel, content string, mode uint32) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	chmod(t, p, mode)
	return p
}

// chmod sets Unix mode bits, past the umask.
func chmod(t *testing.T, p string, mode uint32) {
	t.Helper()
	if err := unix.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, root, rel string) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// pack archives src into memory.
func pack(t *testing.T, src string, opts PackOptions) ([]byte, Info) {
	t.Helper()
	var b bytes.Buffer
	info, err := Pack(&b, src, opts)
	if err != nil {
		t.Fatalf("Pack(%s): %v", src, err)
	}
	return b.Bytes(), info
}

// copyPath is `docker cp src dst` in one process: Pack, then Unpack.
func copyPath(t *testing.T, src, dst string, popts PackOptions, uopts UnpackOptions) error {
	t.Helper()
	var b bytes.Buffer
	if _, err := Pack(&b, src, popts); err != nil {
		return err
	}
	return Unpack(&b, dst, uopts)
}

// listTree lists the entries below root: "name/" for a directory, "name ->
// target" for a symlink, "name=content" for a file.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		switch {
		case d.IsDir():
			out = append(out, rel+"/")
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, rel+"="+string(b))
		default:
			out = append(out, rel+" "+d.Type().String())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// noTemps fails t if a temporary entry is left below root.
func noTemps(t *testing.T, root string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			t.Errorf("temporary entry left behind: %s", p)
		}
		return nil
	})
}

// ent is one entry of a hand-made archive.
type ent struct {
	hdr  tar.Header
	body string
}

func file(name, body string) ent {
	return ent{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1e9, 0)}, body}
}

func dir(name string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: time.Unix(1e9, 0)}}
}

func link(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: time.Unix(1e9, 0)}}
}

func hardlink(name, target string) ent {
	return ent{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, ModTime: time.Unix(1e9, 0)}}
}

// mkTar writes entries as an archive, with info in its global header
// unless info is nil.
func mkTar(t *testing.T, info *Info, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if info != nil {
		if err := tw.WriteHeader(info.globalHeader()); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range ents {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
