package userns

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// realPlan is NewPlan for the test user with the machine's files,
// getsubids and helpers; without a range there, the test cannot map one.
func realPlan(t *testing.T, mode Mode) Plan {
	t.Helper()
	p, err := NewPlan(Config{Mode: mode, UID: os.Getuid(), GID: os.Getgid()})
	if errors.Is(err, ErrNoSubIDs) || errors.Is(err, ErrNoHelper) {
		nstest.Skip(t, "the test user needs a subordinate range and newuidmap: "+err.Error())
	}
	if err != nil {
		t.Fatal(err)
	}
	if p.Notice != "" {
		nstest.Skip(t, "the test user needs a subordinate range and newuidmap: "+p.Notice)
	}
	return p
}

// applyAndCheck applies p to a fresh child and checks the kernel's maps
// and the ids the child sees itself as.
func applyAndCheck(t *testing.T, p Plan) {
	t.Helper()
	c := spawn(t, "hold", true)
	if err := p.Apply(c.pid()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for name, want := range map[string][]Mapping{"uid_map": p.UIDs, "gid_map": p.GIDs} {
		got, err := readMap(c.pid(), name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	out, err := c.finish()
	if err != nil {
		t.Fatal(err)
	}
	if out != "0 0\n" {
		t.Errorf("child sees itself as %q, want root", out)
	}
}

func TestApplySubID(t *testing.T) {
	p := realPlan(t, SubID)
	if len(p.UIDs) < 2 || p.NewUIDMap == "" {
		t.Fatalf("subid plan without ranges or helpers: %+v", p)
	}
	applyAndCheck(t, p)
}

// TestApplySubIDSeveralRanges maps two pieces of the user's range, which
// newuidmap must accept as separate lines.
func TestApplySubIDSeveralRanges(t *testing.T) {
	r := realPlan(t, SubID)
	uid, gid := r.UIDs[1], r.GIDs[1]
	if uid.Size < 3 || gid.Size < 3 {
		nstest.Skip(t, "the test user's first range is under 3 ids")
	}
	lines := func(m Mapping) string {
		return fmt.Sprintf("%d:%d:1\n%d:%d:%d\n", os.Getuid(), m.HostID+2, os.Getuid(), m.HostID, 1)
	}
	p, err := NewPlan(Config{Mode: SubID, UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-",
		SubUIDFile: writeFile(t, "subuid", lines(uid)), SubGIDFile: writeFile(t, "subgid", lines(gid))})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.UIDs) != 3 || len(p.GIDs) != 3 {
		t.Fatalf("want three map lines: %+v", p)
	}
	applyAndCheck(t, p)
}

// TestApplySingleWithoutRanges plays a user with no range at all (an
// empty subordinate id file): the single-id map needs no helper.
func TestApplySingleWithoutRanges(t *testing.T) {
	empty := writeFile(t, "empty", "")
	p, err := NewPlan(Config{UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-", SubUIDFile: empty, SubGIDFile: empty})
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Single || p.Notice == "" || p.NewUIDMap != "" {
		t.Fatalf("want single mode with a notice and no helper: %+v", p)
	}
	c := spawn(t, "hold", true)
	if err := p.Apply(c.pid()); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.pid()) + "/setgroups")
	if err != nil || strings.TrimSpace(string(b)) != "deny" {
		t.Errorf("setgroups = %q, %v; want deny", b, err)
	}
	want := []Mapping{{0, uint32(os.Getuid()), 1}}
	if got, err := readMap(c.pid(), "uid_map"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("uid_map = %v, %v; want %v", got, err, want)
	}
	want = []Mapping{{0, uint32(os.Getgid()), 1}}
	if got, err := readMap(c.pid(), "gid_map"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("gid_map = %v, %v; want %v", got, err, want)
	}
	if out, err := c.finish(); err != nil || out != "0 0\n" {
		t.Errorf("child sees itself as %q (%v), want root", out, err)
	}
}

func TestApplyErrors(t *testing.T) {
	t.Run("maps written twice", func(t *testing.T) {
		p := Plan{Mode: Single, UIDs: []Mapping{{0, uint32(os.Getuid()), 1}}, GIDs: []Mapping{{0, uint32(os.Getgid()), 1}}}
		c := spawn(t, "hold", true)
		if err := p.Apply(c.pid()); err != nil {
			t.Fatal(err)
		}
		err := p.Apply(c.pid())
		if !errors.Is(err, ErrMapWrite) || !strings.Contains(err.Error(), "/proc/"+strconv.Itoa(c.pid())) {
			t.Errorf("second Apply: %v, want ErrMapWrite naming the file", err)
		}
		c.finish()
	})
	t.Run("range not granted", func(t *testing.T) {
		r := realPlan(t, SubID)
		// A range far from the user's: newuidmap checks /etc/subuid
		// itself and must refuse, whatever our file says.
		bogus := fmt.Sprintf("%d:%d:10\n", os.Getuid(), r.UIDs[len(r.UIDs)-1].HostID+r.UIDs[len(r.UIDs)-1].Size+1_000_000)
		p, err := NewPlan(Config{Mode: SubID, UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-",
			SubUIDFile: writeFile(t, "subuid", bogus), SubGIDFile: writeFile(t, "subgid", bogus)})
		if err != nil {
			t.Fatal(err)
		}
		c := spawn(t, "hold", true)
		err = p.Apply(c.pid())
		if !errors.Is(err, ErrHelper) {
			t.Fatalf("Apply of a range not granted: %v, want ErrHelper", err)
		}
		msg := err.Error()
		for _, w := range []string{"newgidmap " + strconv.Itoa(c.pid()), "newgidmap:", "/etc/subgid", "--userns=single"} {
			if !strings.Contains(msg, w) {
				t.Errorf("error %q lacks %q", msg, w)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("error is not one line: %q", msg)
		}
	})
	t.Run("inner maps of a plan that is not keep-id", func(t *testing.T) {
		if err := (Plan{Mode: Single}).ApplyInner(os.Getpid()); err == nil {
			t.Error("ApplyInner of a single plan gave no error")
		}
	})
}

// keepIDReport is what the keepid role prints.
type keepIDReport struct {
	UIDs, GIDs []Mapping
	IDs        string // what the grandchild saw itself as
}

func TestApplyKeepID(t *testing.T) {
	t.Run("with ranges", func(t *testing.T) { checkKeepID(t, realPlan(t, KeepID)) })
	t.Run("without ranges", func(t *testing.T) {
		empty := writeFile(t, "empty", "")
		p, err := NewPlan(Config{Mode: KeepID, UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-", SubUIDFile: empty, SubGIDFile: empty})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.UIDs) != 1 || p.NewUIDMap != "" {
			t.Fatalf("keep-id without ranges: %+v", p)
		}
		checkKeepID(t, p)
	})
}

// checkKeepID writes p's outer maps for a child, which gains its
// capabilities, makes the nested namespace and writes the inner maps; the
// workload there must see itself as the host user.
func checkKeepID(t *testing.T, p Plan) {
	t.Helper()
	var r keepIDReport
	runGained(t, p, "keepid", p, &r)
	if !reflect.DeepEqual(r.UIDs, p.InnerUIDs) || !reflect.DeepEqual(r.GIDs, p.InnerGIDs) {
		t.Errorf("inner maps uid %v gid %v, want uid %v gid %v", r.UIDs, r.GIDs, p.InnerUIDs, p.InnerGIDs)
	}
	if want := fmt.Sprintf("%d %d\n", os.Getuid(), os.Getgid()); r.IDs != want {
		t.Errorf("the keep-id workload sees itself as %q, want the host ids %q", r.IDs, want)
	}
}

func keepIDRole(planJSON string) int {
	var p Plan
	if err := json.Unmarshal([]byte(planJSON), &p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := startRole("hold", true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clone the nested user namespace: %v\n", err)
		return 1
	}
	defer c.cmd.Process.Kill()
	if err := p.ApplyInner(c.pid()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var r keepIDReport
	if r.UIDs, err = readMap(c.pid(), "uid_map"); err == nil {
		r.GIDs, err = readMap(c.pid(), "gid_map")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if r.IDs, err = c.finish(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		return 1
	}
	return 0
}
