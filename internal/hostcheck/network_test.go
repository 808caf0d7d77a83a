package hostcheck

import (
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestNetworkHelpers(t *testing.T) {
	r := Report{Sections: []Section{networkSection(context.Background())}}
	installed := map[string]bool{}
	for _, h := range []string{"pasta", "slirp4netns"} {
		_, err := exec.LookPath(h)
		installed[h] = err == nil
	}
	for h, have := range installed {
		c, _ := r.Check("network", h)
		t.Logf("%s: %+v", h, c)
		switch {
		case have && (c.Status != OK || strings.Contains(c.Value, "version unknown")):
			t.Errorf("%s is installed; check %+v, want ok with its version", h, c)
		case !have && c.Status == OK:
			t.Errorf("%s is not installed; check %+v", h, c)
		}
	}
	if !installed["pasta"] && !installed["slirp4netns"] {
		if c, _ := r.Check("network", "pasta"); c.Status != Warning || c.Fix == "" {
			t.Errorf("no network helper at all: pasta %+v, want a warning with the fix", c)
		}
	}
}

func TestVersionOfAHangingHelperIsBounded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v := version(ctx, "/bin/sh"); !strings.HasPrefix(v, "version unknown") {
		t.Errorf("version with a cancelled context = %q", v)
	}
}
