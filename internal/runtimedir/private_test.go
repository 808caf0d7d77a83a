package runtimedir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func fallbackOpts(tmp string) []Option {
	return []Option{WithXDGRuntimeDir(""), WithRunUserDir(""), WithTmpDir(tmp)}
}

// The refusals: in each case another user could have made the fallback's
// name first. Nothing there may be followed, changed or used.
func TestFallbackRefusesWhatIsNotPrivate(t *testing.T) {
	uid := os.Getuid()
	name := "nook-" + strconv.Itoa(uid)
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, path string)
		want  []string
	}{
		{"symlink", func(t *testing.T, path string) {
			target := private(t)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				// The target is untouched: still empty and 0700.
				if ents, _ := os.ReadDir(target); len(ents) != 0 {
					t.Errorf("symlink target got entries: %v", ents)
				}
				wantMode(t, target, 0o700)
			})
		}, []string{"is a symlink (to ", "planted", "'rm /"}},
		{"dangling symlink", func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "elsewhere"), path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := os.Lstat(filepath.Join(filepath.Dir(path), "elsewhere")); err == nil {
					t.Error("a directory was made at the symlink's target")
				}
			})
		}, []string{"is a symlink"}},
		{"file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"is not a directory"}},
		{"mode 0755", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { wantMode(t, path, 0o755) })
		}, []string{"has mode 0755, not 0700", "chmod 0700 "}},
		{"mode 0777", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o777); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { wantMode(t, path, 0o777) })
		}, []string{"has mode 0777, not 0700"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := private(t)
			tc.plant(t, filepath.Join(tmp, name))
			got, err := Dir(uid, fallbackOpts(tmp)...)
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("Dir = %q, %v; want ErrUnsafe", got, err)
			}
			msg := err.Error()
			for _, w := range append(tc.want, filepath.Join(tmp, name), "XDG_RUNTIME_DIR is not set") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
}

// A directory owned by someone else: the test process owns what it
// makes, so it asks for another uid's fallback.
func TestFallbackRefusesAnotherOwner(t *testing.T) {
	other := os.Getuid() + 1
	tmp := private(t)
	planted := filepath.Join(tmp, "nook-"+strconv.Itoa(other))
	if err := os.Mkdir(planted, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Dir(other, fallbackOpts(tmp)...)
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "is owned by uid "+strconv.Itoa(os.Getuid())+", not by you") {
		t.Fatalf("Dir = %v, want ErrUnsafe naming the owner", err)
	}
}

func TestFallbackParentMustBeSticky(t *testing.T) {
	tmp := private(t)
	if err := os.Chmod(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(os.Getuid(), fallbackOpts(tmp)...); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "chmod +t") {
		t.Fatalf("Dir under a world-writable dir without sticky bit = %v, want ErrUnsafe", err)
	}
	if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if _, err := Dir(os.Getuid(), fallbackOpts(tmp)...); err != nil {
		t.Fatalf("Dir under a sticky world-writable dir (like /tmp): %v", err)
	}
}

func TestFallbackReusedAndModeDespiteUmask(t *testing.T) {
	tmp := private(t)
	old := syscall.Umask(0o277)
	p, err := Dir(os.Getuid(), fallbackOpts(tmp)...)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	wantMode(t, p, 0o700)
	marker := filepath.Join(p, "container")
	if err := os.Mkdir(marker, 0o700); err != nil {
		t.Fatal(err)
	}
	again, err := Dir(os.Getuid(), fallbackOpts(tmp)...)
	if err != nil || again != p {
		t.Fatalf("second Dir = %q, %v; want %q", again, err, p)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the existing fallback lost its entry: %v", err)
	}
}

func TestUnsafeErrorParts(t *testing.T) {
	tmp := private(t)
	p := filepath.Join(tmp, "nook-"+strconv.Itoa(os.Getuid()))
	if err := os.Symlink("/", p); err != nil {
		t.Fatal(err)
	}
	_, err := Dir(os.Getuid(), fallbackOpts(tmp)...)
	var ue *UnsafeError
	if !errors.As(err, &ue) || ue.Path != p || !strings.HasPrefix(ue.Problem, "is a symlink (to /)") || !strings.HasPrefix(ue.Fix, "remove it") {
		t.Fatalf("Dir = %v; want an *UnsafeError for %s with its problem and fix", err, p)
	}
}
