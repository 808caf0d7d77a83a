package hostcheck

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestHostSection(t *testing.T) {
	s := hostSection()
	r := Report{Sections: []Section{s}}
	k, ok := r.Check("host", "kernel")
	if !ok || k.Status != OK || k.Value == "" {
		t.Errorf("kernel check = %+v, want ok with the release (this machine's kernel is new enough)", k)
	}
	a, _ := r.Check("host", "architecture")
	d, _ := r.Check("host", "distribution")
	t.Logf("%+v %+v %+v", k, a, d)
	if want := prettyName(t); d.Value != want {
		t.Errorf("distribution = %q, want /etc/os-release's PRETTY_NAME %q", d.Value, want)
	}
}

// prettyName reads PRETTY_NAME the simple way: this machine's os-release
// quotes it with double quotes and no escapes.
func prettyName(t *testing.T) string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		t.Skipf("no /etc/os-release on this machine: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	t.Skip("/etc/os-release has no PRETTY_NAME")
	return ""
}

func TestKernelVersion(t *testing.T) {
	for _, tc := range []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.1.0-18-amd64", 6, 1, true},
		{"4.18.0-553.el8_10.x86_64", 4, 18, true},
		{"3.10.0-1160.el7.x86_64", 3, 10, true},
		{"5.15+", 5, 15, true},
		{"6.18.44-fc-v657", 6, 18, true},
		{"garbage", 0, 0, false},
	} {
		major, minor, ok := kernelVersion(tc.release)
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("kernelVersion(%q) = %d, %d, %v; want %d, %d, %v", tc.release, major, minor, ok, tc.major, tc.minor, tc.ok)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease([]byte("# comment\nNAME=Fedora\nVERSION='40 (Forty)'\n" +
		`PRETTY_NAME="Say \"hi\" \\ \$x"` + "\nBAD\n"))
	want := map[string]string{"NAME": "Fedora", "VERSION": "40 (Forty)", "PRETTY_NAME": `Say "hi" \ $x`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	dir := t.TempDir()
	p := dir + "/os-release"
	if err := os.WriteFile(p, []byte("NAME=Foo\nVERSION=\"1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := distro(p); got != "Foo 1" {
		t.Errorf("distro without PRETTY_NAME = %q, want %q", got, "Foo 1")
	}
	if got := distro(dir + "/missing"); !strings.HasPrefix(got, "unknown (") {
		t.Errorf("distro of a missing file = %q", got)
	}
}
