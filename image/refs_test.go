package image

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeName(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for in, want := range map[string]string{
		"busybox":                                "docker.io/library/busybox:latest",
		"busybox:1.36":                           "docker.io/library/busybox:1.36",
		"docker.io/busybox":                      "docker.io/library/busybox:latest",
		"index.docker.io/library/busybox:latest": "docker.io/library/busybox:latest",
		"user/app":                               "docker.io/user/app:latest",
		"localhost/x":                            "localhost/x:latest",
		"localhost:5000/x:y":                     "localhost:5000/x:y",
		"quay.io/org/app:v1":                     "quay.io/org/app:v1",
		"busybox@" + d:                           "docker.io/library/busybox@" + d,
	} {
		if got, err := NormalizeName(in); err != nil || got != want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Busybox", "a:b:c", "a b"} {
		if got, err := NormalizeName(bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("NormalizeName(%q) = %q, %v; want ErrInvalidReference", bad, got, err)
		}
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{
		"docker.io/library/busybox:latest": {"docker.io/library/busybox", "latest"},
		"localhost:5000/x:y":               {"localhost:5000/x", "y"},
		"localhost:5000/x":                 {"localhost:5000/x", ""},
		"docker.io/a/b@sha256:00":          {"docker.io/a/b", "sha256:00"},
	} {
		if repo, tag := SplitName(in); repo != want[0] || tag != want[1] {
			t.Errorf("SplitName(%q) = %q, %q; want %q", in, repo, tag, want)
		}
	}
}

// TestResolve checks reference resolution on a made-up index, where IDs
// can share prefixes.
func TestResolve(t *testing.T) {
	id := func(prefix string) string { return "sha256:" + prefix + strings.Repeat("0", 64-len(prefix)) }
	ix := &index{Images: []record{
		{ID: id("abcd1"), Manifest: id("ee"), Names: []string{"docker.io/library/busybox:latest"}},
		{ID: id("abcd2"), Manifest: id("ff")},
		{ID: id("beef"), Names: []string{"docker.io/library/abcd:latest"}},
	}}
	for _, tc := range []struct {
		ref, want, byName string
		err               error
	}{
		{"busybox", id("abcd1"), "docker.io/library/busybox:latest", nil},
		{"busybox@" + id("ee"), id("abcd1"), "", nil},
		{"abcd1", id("abcd1"), "", nil},
		{"sha256:abcd2", id("abcd2"), "", nil},
		{id("abcd2")[7:], id("abcd2"), "", nil},
		{"abcd", id("beef"), "docker.io/library/abcd:latest", nil}, // a name wins over a prefix
		{"abc", "", "", ErrNotFound},                               // too short for a prefix
		{"abcd0", "", "", ErrNotFound},
		{"sha256:abcd", "", "", ErrAmbiguous},
		{"nosuch", "", "", ErrNotFound},
		{"", "", "", ErrInvalidReference},
	} {
		r, byName, err := ix.resolve(tc.ref)
		got := ""
		if r != nil {
			got = r.ID
		}
		if got != tc.want || byName != tc.byName || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("resolve(%q) = %q, %q, %v; want %q, %q, %v", tc.ref, got, byName, err, tc.want, tc.byName, tc.err)
		}
	}
}
