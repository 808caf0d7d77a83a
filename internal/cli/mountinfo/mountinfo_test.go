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
		{Point: "/proc", Source: "proc", FSType: "proc", Options: "rw,nosuid,nodev,noexec,relatime"},
		{Point: "/tmp/a b", Source: `my\src`, FSType: "fuse.nook", Options: "rw,nodev,relatime"},
		{Point: "/x", Source: "tmpfs", FSType: "tmpfs", Options: "ro"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse\n got %+v\nwant %+v", got, want)
	}
	if _, err := parse([]byte("garbage\n")); err == nil {
		t.Error("parse accepted a malformed line")
	}
}

func TestAtRoot(t *testing.T) {
	m, ok, err := At("/")
	if err != nil || !ok || m.FSType == "" {
		t.Fatalf("At(/) = %+v, %v, %v: want the root mount", m, ok, err)
	}
}
