// Package nospacetest pulls into a store on a full filesystem: a small
// tmpfs, mounted in a user and mount namespace of the test binary's own
// (internal/nstest), which the image package's other tests do not need.
package nospacetest

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/image"
	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// files lists the files under root with their sizes.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel+" "+fi.Mode().String()+" "+itoa(fi.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

func TestPullIntoFullFilesystem(t *testing.T) {
	nstest.Require(t)
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=6m"); err != nil {
		nstest.Skip(t, "mount a tmpfs in the user namespace: "+err.Error())
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	reg := imagetest.StartRegistry(t)
	big := imagetest.Layered(t, 2, 4<<20)
	if err := reg.Push("test/big:1", big); err != nil {
		t.Fatal(err)
	}
	s, err := image.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	before := files(t, s.Root())
	_, err = s.Pull(context.Background(), reg.Host+"/test/big:1", image.WithKeychain(image.FileKeychain()), image.WithJobs(1))
	if !errors.Is(err, image.ErrNoSpace) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("pull into a full filesystem: %v, want ErrNoSpace saying so", err)
	}
	if after := files(t, s.Root()); !equal(before, after) {
		t.Errorf("the store changed:\nbefore %v\nafter  %v", before, after)
	}
	// Everything it wrote is gone: a small image fits again.
	if err := reg.Push("test/small:1", imagetest.Busybox(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), reg.Host+"/test/small:1", image.WithKeychain(image.FileKeychain())); err != nil {
		t.Fatalf("pull after the failed one: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "images.json")); err != nil {
		t.Error(err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
