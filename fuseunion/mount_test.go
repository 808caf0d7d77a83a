package fuseunion

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// testUnion is a union mounted for one test.
type testUnion struct {
	mnt, upper, work string
	srv              *Server
}

// mountDirs mounts a union of directory lowers (topmost first) with a
// fresh upper, and unmounts it when the test ends.
func mountDirs(t *testing.T, lowerDirs ...string) *testUnion {
	t.Helper()
	var lowers []Lower
	for _, d := range lowerDirs {
		l, err := OpenDirLower(d)
		if err != nil {
			t.Fatal(err)
		}
		lowers = append(lowers, l)
	}
	return mountLowers(t, lowers)
}

func mountLowers(t *testing.T, lowers []Lower) *testUnion {
	t.Helper()
	nstest.RequireFUSE(t)
	base := t.TempDir()
	tu := &testUnion{
		mnt:   filepath.Join(base, "mnt"),
		upper: filepath.Join(base, "upper"),
		work:  filepath.Join(base, "work"),
	}
	for _, d := range []string{tu.mnt, tu.upper, tu.work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := Mount(tu.mnt, Config{Lowers: lowers, Upper: tu.upper, Work: tu.work, Debug: os.Getenv("NOOK_FUSE_DEBUG") != ""})
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	tu.srv = srv
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return tu
}

func (tu *testUnion) p(rel string) string { return filepath.Join(tu.mnt, rel) }

// writeTree creates files under dir from a map of relative path → content;
// a path ending in "/" is a directory.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if rel[len(rel)-1] == '/' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func execOut(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
