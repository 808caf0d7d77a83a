package mountinfo

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	in := "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
		"98 22 0:50 / /tmp/a\\040b rw,nodev,relatime - fuse.nook my\\134src rw,user_id=0\n" +
		"99 22 0:51 / /x ro master:1 propagate_from:2 - tmpfs tmpfs ro\n"
	got, err := parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Minor: 21, Root: "/", Point: "/proc", Source: "proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime"},
		{Minor: 50, Root: "/", Point: "/tmp/a b", Source: `my\src`, FSType: "fuse.nook", Options: "rw,nodev,relatime"},
		{Minor: 51, Root: "/", Point: "/x", Source: "tmpfs", FSType: "tmpfs", Options: "ro"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"garbage\n", "36 35 98:0 /root /mnt rw\n", "36 35 x:0 / /mnt rw - ext4 /dev/x rw\n"} {
		if _, err := parse([]byte(bad)); err == nil {
			t.Errorf("parse accepted the malformed line %q", bad)
		}
	}
	// A bind mount's root, and a major device number.
	got, err = parse([]byte("36 35 98:0 /root /mnt\\040x rw,noatime master:1 - ext3 /dev/root rw\n"))
	if err != nil || len(got) != 1 || got[0].Major != 98 || got[0].Root != "/root" || got[0].Point != "/mnt x" {
		t.Errorf("parse of a bind mount = %+v, %v", got, err)
	}
}

func TestAtRoot(t *testing.T) {
	m, ok, err := At("/")
	if err != nil || !ok || m.FSType == "" {
		t.Fatalf("At(/) = %+v, %v, %v: want the root mount", m, ok, err)
	}
}
