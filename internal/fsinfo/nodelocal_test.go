package fsinfo

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/runtimedir"
)

func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// runtimeOpts point the runtime directory at a fallback in a test dir.
func runtimeOpts(tmp string) Option {
	return WithRuntimeDir(runtimedir.WithXDGRuntimeDir(""), runtimedir.WithRunUserDir(""), runtimedir.WithTmpDir(tmp))
}

func TestNodeLocalUsesLocalVarTmp(t *testing.T) {
	uid := os.Getuid()
	varTmp := privateDir(t)
	info, err := NodeLocal(uid, WithVarTmp(varTmp), runtimeOpts(privateDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(varTmp, "nook-"+strconv.Itoa(uid))
	if info.Path != want || info.Skipped != "" {
		t.Fatalf("NodeLocal = %+v, want %s", info, want)
	}
	if fi, err := os.Lstat(want); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v, %v; want a 0700 directory", want, fi, err)
	}
}

// TestNodeLocalAvoidsNetworkVarTmp puts "/var/tmp" on a FUSE mount of
// subtype sshfs, a network filesystem: uppers go to the runtime directory.
func TestNodeLocalAvoidsNetworkVarTmp(t *testing.T) {
	uid := os.Getuid()
	varTmp := mountFUSE(t, "sshfs")
	tmp := privateDir(t)
	info, err := NodeLocal(uid, WithVarTmp(varTmp), runtimeOpts(tmp))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(tmp, "nook-"+strconv.Itoa(uid))
	if info.Path != want || !strings.Contains(info.Skipped, "is on fuse, a network filesystem") {
		t.Fatalf("NodeLocal = %+v, want the runtime dir %s because /var/tmp is on a network filesystem", info, want)
	}
}

func TestNodeLocalWithoutVarTmp(t *testing.T) {
	tmp := privateDir(t)
	cases := map[string]string{filepath.Join(tmp, "missing"): "cannot be used"}
	if os.Geteuid() != 0 {
		// Root may write anywhere; for everyone else a read-only /var/tmp
		// is not usable.
		ro := privateDir(t)
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases[ro] = "is not writable"
	}
	for varTmp, why := range cases {
		info, err := NodeLocal(os.Getuid(), WithVarTmp(varTmp), runtimeOpts(tmp))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(info.Path) != tmp || !strings.Contains(info.Skipped, why) {
			t.Errorf("NodeLocal with /var/tmp at %s = %+v, want the runtime dir under %s because it %s", varTmp, info, tmp, why)
		}
	}
}

func TestNodeLocalRefusesPlantedSymlink(t *testing.T) {
	uid := os.Getuid()
	varTmp := privateDir(t)
	target := privateDir(t)
	if err := os.Symlink(target, filepath.Join(varTmp, "nook-"+strconv.Itoa(uid))); err != nil {
		t.Fatal(err)
	}
	_, err := NodeLocalDir(uid, WithVarTmp(varTmp), runtimeOpts(privateDir(t)))
	if !errors.Is(err, runtimedir.ErrUnsafe) || !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("NodeLocalDir with a planted symlink = %v, want runtimedir.ErrUnsafe", err)
	}
}

// TestNodeLocalReal uses this machine's /var/tmp, removing the directory
// afterwards if the test made it.
func TestNodeLocalReal(t *testing.T) {
	uid := os.Getuid()
	mine := filepath.Join("/var/tmp", "nook-"+strconv.Itoa(uid))
	_, statErr := os.Lstat(mine)
	info, err := NodeLocal(uid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node-local: %+v", info)
	if info.Path == mine && errors.Is(statErr, os.ErrNotExist) {
		if err := os.Remove(mine); err != nil {
			t.Error(err)
		}
	}
	if info.Path != mine && info.Skipped == "" {
		t.Errorf("NodeLocal = %+v: not /var/tmp, and no reason", info)
	}
}
