package hostcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLingering(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run-systemd-system")
	linger := filepath.Join(dir, "linger")
	check := func() Check {
		r := Report{Sections: []Section{lingerSection(run, linger, "alice")}}
		c, _ := r.Check("session", "lingering")
		return c
	}
	if c := check(); c.Status != Info || !strings.Contains(c.Value, "without systemd") {
		t.Errorf("no systemd: %+v", c)
	}
	for _, d := range []string{run, linger} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if c := check(); c.Status != Warning || c.Fix != "loginctl enable-linger alice" {
		t.Errorf("systemd, no linger file: %+v, want a warning with loginctl enable-linger", c)
	}
	if err := os.WriteFile(filepath.Join(linger, "alice"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c := check(); c.Status != OK || !strings.Contains(c.Value, "enabled") {
		t.Errorf("linger file: %+v, want ok", c)
	}
}

func TestSessionOnThisMachine(t *testing.T) {
	r := Report{Sections: []Section{sessionSection(CurrentUser())}}
	c, _ := r.Check("session", "systemd")
	_, err := os.Stat("/run/systemd/system")
	if (err == nil) != (c.Value == "running") {
		t.Errorf("systemd = %+v, but /run/systemd/system: %v", c, err)
	}
}
