package hostcheck

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// TestRunOnThisMachine runs every probe. This machine (and CI's) has
// user namespaces and an openable /dev/fuse, so nook can run containers.
func TestRunOnThisMachine(t *testing.T) {
	if f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0); err != nil {
		nstest.Skip(t, "cannot open /dev/fuse: "+err.Error())
	} else {
		f.Close()
	}
	cfg := CurrentUser()
	cfg.StoreRoot = filepath.Join(t.TempDir(), "nook")
	r := Run(context.Background(), cfg)
	var names []string
	for _, s := range r.Sections {
		names = append(names, s.Name)
		for _, c := range s.Checks {
			if c.Status == "" || c.Key == "" {
				t.Errorf("%s: check without key or status: %+v", s.Name, c)
			}
			if (c.Status == Warning || c.Status == Problem) && c.Fix == "" {
				t.Errorf("%s: %s is a %s without a fix", s.Name, c.Key, c.Status)
			}
		}
	}
	want := []string{"host", "user namespaces", "subordinate ids", "fuse", "cgroups", "network", "storage", "session"}
	if !slices.Equal(names, want) {
		t.Errorf("sections %q, want %q", names, want)
	}
	if !r.CanRun {
		t.Errorf("problems on a machine that runs containers: %q", r.Problems)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Sections) != len(r.Sections) || back.CanRun != r.CanRun {
		t.Errorf("JSON round trip: %v, %+v", err, back)
	}
}

func TestFinish(t *testing.T) {
	r := Report{Sections: []Section{{Name: "s", Checks: []Check{
		{Key: "a", Value: "fine", Status: OK},
		{Key: "b", Value: "meh", Status: Warning, Fix: "do x"},
		{Key: "c", Value: "broken", Status: Problem, Fix: "do y"},
	}}}}
	r.finish()
	if r.CanRun || r.Warnings != 1 || !slices.Equal(r.Problems, []string{"s: c: broken (fix: do y)"}) {
		t.Errorf("finish: %+v", r)
	}
}
