package userns

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// installedHelpers returns the machine's newuidmap and newgidmap, which
// the plans below only name (they are run by the Apply tests).
func installedHelpers(t *testing.T) (string, string) {
	t.Helper()
	u, shortU := findHelper("", "newuidmap")
	g, shortG := findHelper("", "newgidmap")
	if shortU != nil || shortG != nil {
		nstest.Skip(t, "newuidmap/newgidmap unusable (Debian: uidmap): "+errors.Join(shortU, shortG).Error())
	}
	return u, g
}

func TestNewPlan(t *testing.T) {
	nu, ng := installedHelpers(t)
	ranges := writeFile(t, "subid", "alice:100000:65536\n")
	twoRanges := writeFile(t, "subid2", "alice:300000:10\n1001:100000:65536\n")
	empty := writeFile(t, "empty", "")
	missing := filepath.Join(t.TempDir(), "nothing")
	base := Config{UID: 1001, GID: 1002, User: "alice", GetSubIDs: "-", SubUIDFile: ranges, SubGIDFile: ranges}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	subid := Plan{
		Mode:      SubID,
		UIDs:      []Mapping{{0, 1001, 1}, {1, 100000, 65536}},
		GIDs:      []Mapping{{0, 1002, 1}, {1, 100000, 65536}},
		NewUIDMap: nu, NewGIDMap: ng,
	}
	single := Plan{Mode: Single, UIDs: []Mapping{{0, 1001, 1}}, GIDs: []Mapping{{0, 1002, 1}}}
	tests := []struct {
		desc   string
		cfg    Config
		want   Plan
		notice []string // words the Notice must hold; nil: no Notice
	}{
		{"auto with ranges and helpers", base, subid, nil},
		{"subid asked for", with(func(c *Config) { c.Mode = SubID }), subid, nil},
		{"single asked for ignores ranges", with(func(c *Config) { c.Mode = Single }), single, nil},
		{"auto, no uid range", with(func(c *Config) { c.SubUIDFile = empty }), single,
			[]string{"no subordinate uid range for alice in " + empty, "single id", "usermod --add-subuids 100000-165535 alice"}},
		{"auto, no gid range", with(func(c *Config) { c.SubGIDFile = missing }), single,
			[]string{"no subordinate gid range for alice", "usermod --add-subgids 100000-165535 alice"}},
		{"auto, no ranges at all", with(func(c *Config) { c.SubUIDFile, c.SubGIDFile = empty, empty }), single,
			[]string{"no subordinate uid or gid range for alice", "--add-subuids 100000-165535 --add-subgids 100000-165535 alice"}},
		{"auto, newuidmap missing", with(func(c *Config) { c.NewUIDMap = missing }), single,
			[]string{"newuidmap is not installed at " + missing, "uidmap", "single id"}},
		{"auto, newgidmap missing", with(func(c *Config) { c.NewGIDMap = missing }), single,
			[]string{"newgidmap is not installed", "single id"}},
		{"two ranges, by name and by uid", with(func(c *Config) { c.SubUIDFile = twoRanges }),
			Plan{Mode: SubID, UIDs: []Mapping{{0, 1001, 1}, {1, 100000, 65536}, {65537, 300000, 10}},
				GIDs: subid.GIDs, NewUIDMap: nu, NewGIDMap: ng}, nil},
		{"keep-id", with(func(c *Config) { c.Mode = KeepID }),
			Plan{Mode: KeepID, UIDs: subid.UIDs, GIDs: subid.GIDs,
				InnerUIDs:    []Mapping{{0, 1, 1001}, {1001, 0, 1}, {1002, 1002, 64535}},
				InnerGIDs:    []Mapping{{0, 1, 1002}, {1002, 0, 1}, {1003, 1003, 64534}},
				ContainerUID: 1001, ContainerGID: 1002, NewUIDMap: nu, NewGIDMap: ng}, nil},
		{"keep-id without ranges", with(func(c *Config) { c.Mode, c.SubUIDFile = KeepID, empty }),
			Plan{Mode: KeepID, UIDs: single.UIDs, GIDs: single.GIDs,
				InnerUIDs: []Mapping{{1001, 0, 1}}, InnerGIDs: []Mapping{{1002, 0, 1}},
				ContainerUID: 1001, ContainerGID: 1002},
			[]string{"no subordinate uid range for alice", "keep-id maps only your own ids"}},
	}
	for _, tt := range tests {
		got, err := NewPlan(tt.cfg)
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		notice := got.Notice
		got.Notice = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.desc, got, tt.want)
		}
		if (notice == "") != (tt.notice == nil) || strings.Contains(notice, "\n") {
			t.Errorf("%s: notice %q", tt.desc, notice)
		}
		for _, w := range tt.notice {
			if !strings.Contains(notice, w) {
				t.Errorf("%s: notice %q lacks %q", tt.desc, notice, w)
			}
		}
	}
}

func TestNewPlanSubIDErrors(t *testing.T) {
	installedHelpers(t)
	ranges := writeFile(t, "subid", "alice:100000:65536\n")
	empty := writeFile(t, "empty", "")
	missing := filepath.Join(t.TempDir(), "nothing")
	base := Config{Mode: SubID, UID: 1001, GID: 1001, User: "alice", GetSubIDs: "-", SubUIDFile: ranges, SubGIDFile: ranges}
	tests := []struct {
		desc     string
		f        func(*Config)
		sentinel error
		words    []string
	}{
		{"no uid range", func(c *Config) { c.SubUIDFile = empty }, ErrNoSubIDs,
			[]string{"no subordinate uid range for alice", "usermod --add-subuids 100000-165535 alice", "--userns=single"}},
		{"no newuidmap", func(c *Config) { c.NewUIDMap = missing }, ErrNoHelper,
			[]string{"newuidmap is not installed", "uidmap", "--userns=single"}},
	}
	for _, tt := range tests {
		cfg := base
		tt.f(&cfg)
		_, err := NewPlan(cfg)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("%s: error %v, want %v", tt.desc, err, tt.sentinel)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tt.desc, err)
		}
		for _, w := range tt.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.desc, err, w)
			}
		}
	}
	bad := []Config{{UID: -1}, {GID: -2}, {Mode: Mode(7)}}
	if big := int64(noID); int64(int(big)) == big { // (uid_t)-1 fits an int on 64-bit
		bad = append(bad, Config{GID: int(big)})
	}
	for _, cfg := range bad {
		if _, err := NewPlan(cfg); err == nil {
			t.Errorf("NewPlan(%+v) accepted a bad config", cfg)
		}
	}
}

// TestNewPlanUnprivilegedHelper copies newuidmap, which drops its setuid
// bit: a helper that cannot write maps for ranges must not be picked.
func TestNewPlanUnprivilegedHelper(t *testing.T) {
	nu, _ := installedHelpers(t)
	copyPath := filepath.Join(t.TempDir(), "newuidmap")
	src, err := os.Open(nu)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(copyPath, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	ranges := writeFile(t, "subid", "alice:100000:65536\n")
	p, err := NewPlan(Config{UID: 1001, GID: 1001, User: "alice", GetSubIDs: "-", SubUIDFile: ranges, SubGIDFile: ranges, NewUIDMap: copyPath})
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root needs no setuid bit; the copy works for it.
		if p.Mode != SubID {
			t.Errorf("as root: mode %v, want subid", p.Mode)
		}
		return
	}
	if p.Mode != Single || !strings.Contains(p.Notice, "neither setuid root nor given file capabilities") ||
		!strings.Contains(p.Notice, "chmod u+s "+copyPath) {
		t.Errorf("mode %v, notice %q; want single naming the missing setuid bit and the fix", p.Mode, p.Notice)
	}
}
