package overlayfs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want Options
	}{
		{
			name: "fuse-overlayfs style",
			args: []string{"-o", "lowerdir=/l1:/l2,upperdir=/u,workdir=/w", "/mnt"},
			want: Options{Lowers: []string{"/l1", "/l2"}, Upper: "/u", Work: "/w", Mountpoint: "/mnt"},
		},
		{
			name: "attached -o and several -o",
			args: []string{"-olowerdir=/l", "-o", "upperdir=/u", "-o", "workdir=/w", "/mnt", "-f"},
			want: Options{Lowers: []string{"/l"}, Upper: "/u", Work: "/w", Mountpoint: "/mnt", Foreground: true},
		},
		{
			name: "read-only union without upperdir",
			args: []string{"-o", "lowerdir=a", "m"},
			want: Options{Lowers: []string{"a"}, Mountpoint: "m"},
		},
		{
			name: "mount.fuse3 calling convention",
			args: []string{"overlay", "/mnt", "-o", "rw,lowerdir=/l,upperdir=/u,workdir=/w,dev,suid"},
			want: Options{Lowers: []string{"/l"}, Upper: "/u", Work: "/w", Mountpoint: "/mnt", Source: "overlay"},
		},
		{
			name: "mount.fuse3 with ro and nodev",
			args: []string{"overlay", "/mnt", "-o", "ro,nodev,lowerdir=/l,suid"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/mnt", Source: "overlay", Flags: MountFlags{ReadOnly: true, NoDev: true}},
		},
		{
			name: "fsname wins over SOURCE",
			args: []string{"src", "/mnt", "-o", "fsname=mine,lowerdir=/l"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/mnt", Source: "mine"},
		},
		{
			name: "escaped colon keeps one lower",
			args: []string{"-o", `lowerdir=/a\:b:/c`, "/m"},
			want: Options{Lowers: []string{"/a:b", "/c"}, Mountpoint: "/m"},
		},
		{
			name: "escaped comma stays in the value",
			args: []string{"-o", `lowerdir=/c\,d,upperdir=/u\,v,workdir=/w`, "/m"},
			want: Options{Lowers: []string{"/c,d"}, Upper: "/u,v", Work: "/w", Mountpoint: "/m"},
		},
		{
			name: "octal escapes as libfuse reads them",
			args: []string{"-o", `lowerdir=/c\054d:/sp\040ace:/co\072lon`, "/m"},
			want: Options{Lowers: []string{"/c,d", "/sp ace", "/co:lon"}, Mountpoint: "/m"},
		},
		{
			name: "escaped backslash",
			args: []string{"-o", `lowerdir=/a\\:/b`, "/m"},
			want: Options{Lowers: []string{`/a\`, "/b"}, Mountpoint: "/m"},
		},
		{
			name: "quoted SELinux context keeps its comma",
			args: []string{"-o", `lowerdir=/l,context="system_u:object_r:container_file_t:s0:c1,c2",upperdir=/u,workdir=/w`, "/m"},
			want: Options{Lowers: []string{"/l"}, Upper: "/u", Work: "/w", Mountpoint: "/m"},
		},
		{
			name: "later lowerdir overrides",
			args: []string{"-o", "lowerdir=/x", "-o", "lowerdir=/y", "/m"},
			want: Options{Lowers: []string{"/y"}, Mountpoint: "/m"},
		},
		{
			name: "debug implies foreground",
			args: []string{"-d", "-o", "lowerdir=/l", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m", Debug: true, Foreground: true},
		},
		{
			name: "-o debug and --debug",
			args: []string{"--debug", "-o", "debug,lowerdir=/l", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m", Debug: true, Foreground: true},
		},
		{
			name: "what Podman passes",
			args: []string{"-o", "lowerdir=/s/l/A:/s/l/B,upperdir=/s/d,workdir=/s/w,nodev,fsync=0,uidmapping=0:0:4294967295,gidmapping=0:0:4294967295,xattr_permissions=0", "/s/merged"},
			want: Options{Lowers: []string{"/s/l/A", "/s/l/B"}, Upper: "/s/d", Work: "/s/w", Mountpoint: "/s/merged", Volatile: true, Flags: MountFlags{NoDev: true}},
		},
		{
			name: "silently accepted knobs",
			args: []string{"-s", "-o", "lowerdir=/l,allow_other,default_permissions,noatime,lazytime,threaded=1,static_nlink,volatile,userxattr,xino=off,index=off,metacopy=on,redirect_dir=off,noacl,x-systemd.automount,max_write=131072", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m", Volatile: true},
		},
		{
			name: "fsync=1 keeps flushing",
			args: []string{"-o", "lowerdir=/l,volatile,fsync=1", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m"},
		},
		{
			name: "nosuid nodev noexec",
			args: []string{"-o", "lowerdir=/l,nosuid,nodev,noexec", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m", Flags: MountFlags{NoSuid: true, NoDev: true, NoExec: true}},
		},
		{
			name: "rw after ro",
			args: []string{"-o", "ro,lowerdir=/l", "-o", "rw", "/m"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "/m"},
		},
		{
			name: "operands after --",
			args: []string{"-o", "lowerdir=/l", "--", "-odd-mountpoint"},
			want: Options{Lowers: []string{"/l"}, Mountpoint: "-odd-mountpoint"},
		},
		{
			name: "help needs nothing else",
			args: []string{"--help"},
			want: Options{Help: true},
		},
		{
			name: "version needs nothing else",
			args: []string{"-V"},
			want: Options{Version: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.args)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.args, err)
			}
			got.Notices = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

func TestParseNotices(t *testing.T) {
	for _, tc := range []struct {
		opts string
		want []string // substrings, one per notice
	}{
		{"uidmapping=0:1000:1:1:100000:65536", []string{"ignoring option uidmapping"}},
		{"uidmapping=0:0:10:10:10:5", nil},
		{"squash_to_root", []string{"ignoring option squash_to_root"}},
		{"squash_to_uid=5,squash_to_gid=6", []string{"squash_to_uid", "squash_to_gid"}},
		{"noxattrs=1", []string{"noxattrs"}},
		{"noxattrs=0", nil},
		{"plugins=/x.so", []string{"plugins"}},
		{"xattr_permissions=2", []string{"xattr_permissions"}},
		{"workdir=/w", []string{"ignoring workdir"}},
	} {
		t.Run(tc.opts, func(t *testing.T) {
			o, err := Parse([]string{"-o", "lowerdir=/l," + tc.opts, "/m"})
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Notices) != len(tc.want) {
				t.Fatalf("notices %q, want %d matching %q", o.Notices, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(o.Notices[i], w) || strings.Contains(o.Notices[i], "\n") {
					t.Errorf("notice %q: want one line containing %q", o.Notices[i], w)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no lowerdir", []string{"-o", "upperdir=/u,workdir=/w", "/m"}, "no lowerdir"},
		{"empty lowerdir", []string{"-o", "lowerdir=", "/m"}, `"lowerdir" needs a value`},
		{"empty lower element", []string{"-o", "lowerdir=/a::/b", "/m"}, "empty element"},
		{"trailing colon", []string{"-o", "lowerdir=/a:", "/m"}, "empty element"},
		{"upper without work", []string{"-o", "lowerdir=/l,upperdir=/u", "/m"}, "add -o workdir=DIR"},
		{"no mountpoint", []string{"-o", "lowerdir=/l"}, "no mountpoint"},
		{"too many operands", []string{"-o", "lowerdir=/l", "a", "b", "c"}, "too many operands"},
		{"unknown option", []string{"-o", "lowerdir=/l,frobnicate=3", "/m"}, `unknown option "frobnicate=3"`},
		{"unknown flag", []string{"-x", "-o", "lowerdir=/l", "/m"}, `unknown flag "-x"`},
		{"dangling -o", []string{"/m", "-o"}, "-o needs a value"},
		{"redirect_dir on", []string{"-o", "lowerdir=/l,redirect_dir=on", "/m"}, "only redirect_dir=off"},
		{"bad mapping", []string{"-o", "lowerdir=/l,uidmapping=0:1", "/m"}, "FROM:TO:LEN"},
		{"mapping not numbers", []string{"-o", "lowerdir=/l,gidmapping=a:b:c", "/m"}, "numbers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.args)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tc.args, tc.want)
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Errorf("Parse(%q) = %v: want a usageError", tc.args, err)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%q) = %q: want one line containing %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestSplitUnescaped(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a,b", []string{"a", "b"}},
		{`a\,b,c`, []string{`a\,b`, "c"}},
		{`x="1,2",y`, []string{`x="1,2"`, "y"}},
		{`a\\,b`, []string{`a\\`, "b"}},
		{"", []string{""}},
		{`trailing\`, []string{`trailing\`}},
	} {
		if got := splitUnescaped(tc.in, ','); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitUnescaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`lowerdir=/a\:b:/c,upperdir=/u,workdir=/w`)
	f.Add(`context="a,b",lowerdir=\054\`)
	f.Fuzz(func(t *testing.T, opts string) {
		o, err := Parse([]string{"-o", opts, "/m"})
		if err != nil {
			return
		}
		for _, l := range o.Lowers {
			if l == "" {
				t.Fatalf("Parse accepted an empty lower from %q", opts)
			}
		}
	})
}
