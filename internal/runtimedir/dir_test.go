package runtimedir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// private returns a new directory of the test's with mode 0700.
func private(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want a directory with %04o", path, fi.Mode(), want)
	}
}

func TestSessionDirIsUsed(t *testing.T) {
	uid := os.Getuid()
	xdg := private(t)
	info, err := Resolve(uid, WithXDGRuntimeDir(xdg), WithRunUserDir(""), WithTmpDir(private(t)))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(xdg, "nook"); info.Path != want || info.Fallback || len(info.Skipped) != 0 {
		t.Fatalf("Resolve = %+v, want %s, not the fallback, nothing skipped", info, want)
	}
	wantMode(t, info.Path, 0o700)
	// A second call finds the same directory.
	again, err := Dir(uid, WithXDGRuntimeDir(xdg), WithRunUserDir(""))
	if err != nil || again != info.Path {
		t.Fatalf("second Dir = %q, %v; want %q", again, err, info.Path)
	}
}

// TestLostSessionVariable is su, sudo -u and cron while the user has a
// session: XDG_RUNTIME_DIR is unset or someone else's, /run/user/UID is the
// user's.
func TestLostSessionVariable(t *testing.T) {
	uid := os.Getuid()
	runUser := private(t)
	mine := filepath.Join(runUser, strconv.Itoa(uid))
	if err := os.Mkdir(mine, 0o700); err != nil {
		t.Fatal(err)
	}
	open := private(t)
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, xdg := range []string{"", open} {
		info, err := Resolve(uid, WithXDGRuntimeDir(xdg), WithRunUserDir(runUser), WithTmpDir(private(t)))
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(mine, "nook"); info.Path != want || info.Fallback || len(info.Skipped) != 1 {
			t.Errorf("XDG_RUNTIME_DIR=%q: Resolve = %+v, want %s after skipping the variable", xdg, info, want)
		}
	}
}

func TestFallbackWhenNoSessionDir(t *testing.T) {
	uid := os.Getuid()
	base := private(t)
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		xdg, why string
	}{
		{"", "XDG_RUNTIME_DIR is not set"},
		{"run/user/1", "is not an absolute path"},
		{filepath.Join(base, "missing"), "does not exist"},
		{file, "is not a directory"},
		{mk("group", 0o770), "can be written by group or others (mode 0770)"},
		{mk("world", 0o777), "can be written by group or others (mode 0777)"},
	} {
		tmp := private(t)
		info, err := Resolve(uid, WithXDGRuntimeDir(tc.xdg), WithRunUserDir(filepath.Join(base, "norun")), WithTmpDir(tmp))
		if err != nil {
			t.Errorf("XDG_RUNTIME_DIR=%q: %v", tc.xdg, err)
			continue
		}
		want := filepath.Join(tmp, "nook-"+strconv.Itoa(uid))
		if info.Path != want || !info.Fallback || len(info.Skipped) != 2 || !strings.Contains(info.Skipped[0], tc.why) ||
			!strings.Contains(info.Skipped[1], "does not exist") {
			t.Errorf("XDG_RUNTIME_DIR=%q: Resolve = %+v, want fallback %s after %q", tc.xdg, info, want, tc.why)
			continue
		}
		wantMode(t, info.Path, 0o700)
	}
}

// TestSessionDirOfAnotherUser asks for the runtime directory of a uid that
// owns none of the test's directories: the session directory is skipped,
// and the fallback the test process makes is not that uid's, so it is
// refused too.
func TestSessionDirOfAnotherUser(t *testing.T) {
	other := os.Getuid() + 1
	xdg := private(t)
	_, err := Resolve(other, WithXDGRuntimeDir(xdg), WithRunUserDir(""), WithTmpDir(private(t)))
	if !errors.Is(err, ErrUnsafe) {
		t.Fatalf("Resolve(uid %d) = %v, want ErrUnsafe", other, err)
	}
	for _, want := range []string{"is owned by uid " + strconv.Itoa(os.Getuid()) + ", not uid " + strconv.Itoa(other),
		"not by you", "set XDG_RUNTIME_DIR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}

func TestSessionNookDirMustBePrivate(t *testing.T) {
	xdg := private(t)
	nook := filepath.Join(xdg, "nook")
	if err := os.Mkdir(nook, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(nook, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Dir(os.Getuid(), WithXDGRuntimeDir(xdg), WithRunUserDir(""), WithTmpDir(private(t)))
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chmod 0700 "+nook) {
		t.Fatalf("Dir = %v, want ErrUnsafe telling to chmod 0700 %s", err, nook)
	}
	wantMode(t, nook, 0o755)
}

// TestRealEnvironment resolves the runtime directory of the user running
// the tests, from the environment the tests run in, and cleans up after.
func TestRealEnvironment(t *testing.T) {
	info, err := Resolve(os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("runtime directory %+v", info)
	if err := Cleanup(info.Path); err != nil {
		t.Fatal(err)
	}
}
