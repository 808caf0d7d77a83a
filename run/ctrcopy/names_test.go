package ctrcopy

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"a":          "a",
		"a/":         "a",
		"./a/./b//":  "a/b",
		"/etc/pwd":   "etc/pwd",
		"//x":        "x",
		".":          ".",
		"./":         ".",
		"":           ".",
		"a/b/../c":   "a/c",
		"a/..":       ".",
		"../x":       "",
		"a/../../x":  "",
		"/../x":      "",
		"a\x00b":     "",
		"..":         "",
		"...":        "...",
		"a/..b/../c": "a/c",
	} {
		got, err := cleanName(in)
		if want == "" {
			if err == nil {
				t.Errorf("cleanName(%q) = %q, want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzCleanName: whatever the name, an accepted one is relative, clean
// and stays below its root.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"a", "../a", "/a/../..", "a/./b", "", ".", "a//b/", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := cleanName(name)
		if err != nil {
			if !errors.Is(err, ErrUnsafeEntry) {
				t.Fatalf("cleanName(%q): %v is not ErrUnsafeEntry", name, err)
			}
			return
		}
		if n == "" || strings.HasPrefix(n, "/") || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "\x00") {
			t.Fatalf("cleanName(%q) = %q", name, n)
		}
		rel, err := rebase(n, &Info{Name: "top", IsDir: true})
		if err == nil && (strings.HasPrefix(rel, "../") || rel == ".." || path.IsAbs(rel)) {
			t.Fatalf("rebase(%q) = %q", n, rel)
		}
	})
}
