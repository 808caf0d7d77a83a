package overlayfs

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// tree makes dirs (names ending in "/") and files under a new temp dir.
func tree(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range names {
		p := filepath.Join(root, n)
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCheck(t *testing.T) {
	root := tree(t, "l1/", "l2/", "u/", "w/", "m/", "layer.tar", "layer.idx")
	j := func(n string) string { return filepath.Join(root, n) }
	t.Chdir(root)
	for _, tc := range []struct {
		name string
		o    Options
		want plan
	}{
		{
			name: "read-write union with relative paths",
			o:    Options{Lowers: []string{"l1", "l2"}, Upper: "u", Work: "w", Mountpoint: "m"},
			want: plan{lowers: []lowerSpec{{path: j("l1")}, {path: j("l2")}}, upper: j("u"), work: j("w"), mountpoint: j("m"), fsName: "nook-overlayfs"},
		},
		{
			name: "tar lower and a source",
			o:    Options{Lowers: []string{j("layer.tar"), "l1"}, Mountpoint: "m", Source: "overlay", Debug: true},
			want: plan{lowers: []lowerSpec{{path: j("layer.tar"), tar: true}, {path: j("l1")}}, mountpoint: j("m"), fsName: "overlay", debug: true, flags: MountFlags{ReadOnly: true}},
		},
		{
			name: "ro shows the upper as the topmost lower",
			o:    Options{Lowers: []string{"l1"}, Upper: "u", Work: "w", Mountpoint: "m", Flags: MountFlags{ReadOnly: true}},
			want: plan{lowers: []lowerSpec{{path: j("u")}, {path: j("l1")}}, mountpoint: j("m"), fsName: "nook-overlayfs", flags: MountFlags{ReadOnly: true}},
		},
		{
			name: "fuse fd mountpoint",
			o:    Options{Lowers: []string{"l1"}, Mountpoint: "/dev/fd/7", Flags: MountFlags{NoDev: true}},
			want: plan{lowers: []lowerSpec{{path: j("l1")}}, mountpoint: "/dev/fd/7", fsName: "nook-overlayfs", flags: MountFlags{ReadOnly: true, NoDev: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := check(tc.o)
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("check\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestCheckErrors(t *testing.T) {
	root := tree(t, "l/", "u/", "w/", "m/", "file", "nolayer.tar", "u/inner/")
	t.Chdir(root)
	ok := Options{Lowers: []string{"l"}, Upper: "u", Work: "w", Mountpoint: "m"}
	with := func(f func(o *Options)) Options {
		o := ok
		o.Lowers = append([]string(nil), ok.Lowers...)
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"missing lowerdir", with(func(o *Options) { o.Lowers = []string{"l", "nope"} }), "lowerdir nope does not exist: check the path"},
		{"lower is a plain file", with(func(o *Options) { o.Lowers = []string{"file"} }), "lowerdir file is neither a directory nor an indexed layer .tar"},
		{"tar without index", with(func(o *Options) { o.Lowers = []string{"nolayer.tar"} }), "has no index nolayer.idx beside it: index it with 'nook layer index"},
		{"missing upperdir", with(func(o *Options) { o.Upper = "nope" }), "upperdir nope does not exist: create it with mkdir -p nope"},
		{"missing workdir", with(func(o *Options) { o.Work = "nope" }), "workdir nope does not exist: create it with mkdir -p nope"},
		{"upperdir is a file", with(func(o *Options) { o.Upper = "file" }), "upperdir file is not a directory"},
		{"workdir inside upperdir", with(func(o *Options) { o.Work = "u/inner" }), "overlap: use two separate directories"},
		{"upperdir is workdir", with(func(o *Options) { o.Work = "u" }), "overlap"},
		{"missing mountpoint", with(func(o *Options) { o.Mountpoint = "nope" }), "mountpoint nope does not exist: create it with mkdir -p nope"},
		{"mountpoint is a file", with(func(o *Options) { o.Mountpoint = "file" }), "mountpoint file is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := check(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("check = %v, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckWorkdirOnOtherFilesystem(t *testing.T) {
	upper := t.TempDir()
	// /dev/shm is its own tmpfs wherever it exists; the temp dir is not on it
	// unless TMPDIR points there.
	work, err := os.MkdirTemp("/dev/shm", "nook-check-")
	if err != nil {
		nstest.Skip(t, fmt.Sprintf("no /dev/shm to put a workdir on another filesystem: %v", err))
	}
	defer os.RemoveAll(work)
	var su, sw syscall.Stat_t
	if syscall.Stat(upper, &su) != nil || syscall.Stat(work, &sw) != nil || su.Dev == sw.Dev {
		nstest.Skip(t, fmt.Sprintf("%s and %s are on one filesystem", upper, work))
	}
	o := Options{Lowers: []string{upper}, Upper: upper, Work: work, Mountpoint: upper}
	_, err = check(o)
	if err == nil || !strings.Contains(err.Error(), "is on a different filesystem than upperdir") || !strings.Contains(err.Error(), "put both on one filesystem") {
		t.Fatalf("check = %v, want the different-filesystem error with its fix", err)
	}
}
