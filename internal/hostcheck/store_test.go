package hostcheck

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/nookrun/nook/internal/fsinfo"
	"github.com/nookrun/nook/internal/nstest"
)

func TestStoreNotYetMade(t *testing.T) {
	cfg := CurrentUser()
	dir := t.TempDir()
	cfg.StoreRoot = filepath.Join(dir, "share", "nook")
	r := Report{Sections: []Section{storeSection(cfg)}}
	fsi, err := fsinfo.Type(dir)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"store":            cfg.StoreRoot,
		"store filesystem": fsi.Name,
		"store writable":   "yes (will be made in " + dir + ")",
		"container uppers": "in the store (" + filepath.Join(cfg.StoreRoot, "containers") + ")",
	} {
		c, _ := r.Check("storage", key)
		if !strings.HasPrefix(c.Value, want) || c.Status == Problem {
			t.Errorf("%s = %+v, want %q", key, c, want)
		}
	}
	if c, _ := r.Check("storage", "runtime dir"); c.Status != OK {
		t.Errorf("runtime dir = %+v, want ok", c)
	}
}

func TestStoreNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("root may write anywhere: only the report's shape is checked")
	}
	cfg := CurrentUser()
	cfg.StoreRoot = "/proc/nook-store"
	r := Report{Sections: []Section{storeSection(cfg)}}
	r.finish()
	c, _ := r.Check("storage", "store writable")
	if os.Geteuid() != 0 && (c.Status != Problem || !strings.Contains(c.Fix, "--root") || r.CanRun) {
		t.Errorf("store under /proc: %+v, want a problem with the --root fix", c)
	}
}

// TestStoreOnNetworkFilesystem puts the store on a FUSE mount of subtype
// sshfs: uppers go to node-local storage (this machine's /var/tmp).
func TestStoreOnNetworkFilesystem(t *testing.T) {
	mnt := t.TempDir()
	srv, err := fs.Mount(mnt, &fs.Inode{}, &fs.Options{MountOptions: fuse.MountOptions{Name: "sshfs", FsName: "nook-hostcheck-test"}})
	if err != nil {
		nstest.Skip(t, "mount a FUSE filesystem (needs /dev/fuse and fusermount3): "+err.Error())
	}
	t.Cleanup(func() {
		if err := srv.Unmount(); err != nil {
			t.Error(err)
		}
	})
	cfg := CurrentUser()
	cfg.StoreRoot = filepath.Join(mnt, "nook")
	varTmp := "/var/tmp/nook-" + strconv.Itoa(cfg.UID)
	if _, err := os.Lstat(varTmp); errors.Is(err, os.ErrNotExist) {
		t.Cleanup(func() { os.Remove(varTmp) })
	}
	r := Report{Sections: []Section{storeSection(cfg)}}
	fsc, _ := r.Check("storage", "store filesystem")
	up, _ := r.Check("storage", "container uppers")
	t.Logf("%+v\n%+v", fsc, up)
	if fsc.Value != "fuse (fuse.sshfs), a network filesystem" {
		t.Errorf("store filesystem = %+v", fsc)
	}
	if up.Status != OK || !strings.Contains(up.Value, "(node-local, since the store is on fuse)") {
		t.Errorf("container uppers = %+v, want ok, node-local", up)
	}
}

func TestBytesIEC(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 30: "5.0 GiB", 72*(1<<30) + 1<<29: "72.5 GiB", 3 << 40: "3.0 TiB"} {
		if got := bytesIEC(n); got != want {
			t.Errorf("bytesIEC(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStoreUnderAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := CurrentUser()
	cfg.StoreRoot = filepath.Join(file, "nook")
	r := Report{Sections: []Section{storeSection(cfg)}}
	r.finish()
	if c, _ := r.Check("storage", "store writable"); c.Status != Problem || c.Value != "no: "+file+" is not a directory" || r.CanRun {
		t.Errorf("store under a file: %+v", c)
	}
}

func TestStoreUnknown(t *testing.T) {
	cfg := CurrentUser()
	cfg.StoreRootErr = errors.New("HOME is not set")
	r := Report{Sections: []Section{storeSection(cfg)}}
	r.finish()
	c, _ := r.Check("storage", "store")
	if c.Status != Problem || c.Value != "unknown: HOME is not set" || !strings.Contains(c.Fix, "--root") || r.CanRun {
		t.Errorf("store without a path: %+v", c)
	}
	if c, _ := r.Check("storage", "runtime dir"); c.Status != OK {
		t.Errorf("runtime dir still checked: %+v", c)
	}
}
