package fuseunion

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

func TestReadOnlyUnionRefusesWrites(t *testing.T) {
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	nstest.RequireFUSE(t)
	l, err := OpenDirLower(lo)
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	srv, err := Mount(mnt, Config{Lowers: []Lower{l}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Unmount()
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("y"), 0); !errorIs(err, syscall.EROFS) {
		t.Errorf("write to read-only union: %v, want EROFS", err)
	}
}

func TestHostErrorsReachTheCaller(t *testing.T) {
	nstest.RequireFUSE(t)
	// A 1 MiB tmpfs as upper: a bigger write must fail with ENOSPC.
	small := t.TempDir()
	if err := unix.Mount("tmpfs", small, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount a small tmpfs: %v", err)
	}
	defer unix.Unmount(small, unix.MNT_DETACH)
	os.Mkdir(filepath.Join(small, "u"), 0o755)
	os.Mkdir(filepath.Join(small, "w"), 0o755)
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	srv, err := Mount(mnt, Config{Upper: filepath.Join(small, "u"), Work: filepath.Join(small, "w")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Unmount()
	f, err := os.Create(filepath.Join(mnt, "big"))
	if err != nil {
		t.Fatal(err)
	}
	_, werr := f.Write(make([]byte, 4<<20))
	serr := f.Sync()
	cerr := f.Close()
	if !errorIs(werr, syscall.ENOSPC) && !errorIs(serr, syscall.ENOSPC) && !errorIs(cerr, syscall.ENOSPC) {
		t.Errorf("writing 4 MiB to a 1 MiB upper: write %v, fsync %v, close %v; want ENOSPC", werr, serr, cerr)
	}
}

func TestCorruptLayerRefusedAtOpen(t *testing.T) {
	l := tarLayer(t, []tarEntry{reg("f", "hello", 0o644)})
	tl := l.(*tarLower)
	tarPath := tl.l.Tar().Name()
	l.Close()
	// Cut the tar short: the index no longer matches it.
	if err := os.Truncate(tarPath, 512); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTarLower(tarPath); err == nil {
		t.Fatal("a truncated layer tar opened without error")
	}
	idx := strings.TrimSuffix(tarPath, ".tar") + ".idx"
	if err := os.WriteFile(idx, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTarLower(tarPath); err == nil {
		t.Fatal("a corrupt index opened without error")
	}
}

// TestKilledServerLeavesENOTCONN kills a server process and checks that
// callers get ENOTCONN instead of hanging.
func TestKilledServerLeavesENOTCONN(t *testing.T) {
	nstest.RequireFUSE(t)
	lo := t.TempDir()
	writeTree(t, lo, map[string]string{"f": "x"})
	base := t.TempDir()
	mnt, up, wk := filepath.Join(base, "m"), filepath.Join(base, "u"), filepath.Join(base, "w")
	for _, d := range []string{mnt, up, wk} {
		os.Mkdir(d, 0o755)
	}
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), serveEnv+"="+strings.Join([]string{mnt, up, wk, lo}, "\n"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "mounted\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("server: %q %v", line, err)
	}
	if got := readFile(t, filepath.Join(mnt, "f")); got != "x" {
		t.Errorf("f = %q", got)
	}
	cmd.Process.Kill()
	cmd.Wait()
	_, err = os.Stat(filepath.Join(mnt, "f"))
	if !errorIs(err, syscall.ENOTCONN) {
		t.Errorf("stat after the server died: %v, want ENOTCONN", err)
	}
	if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
		t.Errorf("unmount the dead union: %v", err)
	}
}

// serveEnv makes the test binary serve a union in a process of its own.
const serveEnv = "NOOK_FUSEUNION_TEST_SERVE"

func init() {
	spec := os.Getenv(serveEnv)
	if spec == "" {
		return
	}
	p := strings.Split(spec, "\n")
	l, err := OpenDirLower(p[3])
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	srv, err := Mount(p[0], Config{Lowers: []Lower{l}, Upper: p[1], Work: p[2]})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("mounted\n")
	srv.Wait()
	os.Exit(0)
}
