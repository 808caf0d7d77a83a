package fuseunion

import "testing"

func TestWhiteoutTarget(t *testing.T) {
	cases := []struct {
		name   string
		target string
		ok     bool
	}{
		{".wh.foo", "foo", true},
		{".wh..wh..opq", "", false},
		{".wh.", "", false},
		{".wh..", "", false},
		{".wh...", "", false},
		{"foo", "", false},
		{".whfoo", "", false},
		{".wh..wh.x", ".wh.x", true},
	}
	for _, c := range cases {
		got, ok := whiteoutTarget(c.name)
		if got != c.target || ok != c.ok {
			t.Errorf("whiteoutTarget(%q) = %q, %v; want %q, %v", c.name, got, ok, c.target, c.ok)
		}
	}
}

func FuzzWhiteoutTarget(f *testing.F) {
	for _, s := range []string{".wh.a", ".wh..wh..opq", "a", ".wh.", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		target, ok := whiteoutTarget(name)
		if !ok {
			return
		}
		if whiteoutName(target) != name {
			t.Fatalf("whiteoutName(whiteoutTarget(%q)) = %q", name, whiteoutName(target))
		}
		if target == "" || target == "." || target == ".." {
			t.Fatalf("whiteout %q hides %q", name, target)
		}
	})
}
