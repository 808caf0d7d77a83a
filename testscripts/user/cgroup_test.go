package usertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/cgroupdeleg"
)

// envVMTest is set (to 1) by make vmtest inside its VM, where a cgroup v2
// subtree is delegated to the user: there the cgroupdeleg condition must
// hold, or the script fails.
const envVMTest = "NOOK_VMTEST"

// vmControllers are what the VM delegates and the cgroup scripts use.
var vmControllers = []string{"cpu", "io", "memory", "pids"}

// cgroupCondition answers [cgroupdeleg]: a cgroup v2 subtree with the cpu,
// io, memory and pids controllers is delegated to the user (make
// vmtest's VM; a machine whose hierarchy is hybrid, as this project's
// development machines, has none). Under NOOK_VMTEST=1 its absence is
// an error.
func cgroupCondition() (bool, error) {
	d, err := cgroupdeleg.Find(cgroupdeleg.Options{})
	why := ""
	switch {
	case err != nil:
		why = err.Error()
	case !d.Usable():
		why = d.Reason
	default:
		for _, c := range vmControllers {
			if !slices.Contains(d.Controllers, c) {
				why = fmt.Sprintf("the delegated cgroup %s has no %s controller", d.Base, c)
			}
		}
	}
	if why == "" {
		return true, nil
	}
	if os.Getenv(envVMTest) == "1" {
		return false, fmt.Errorf("%s=1 but no cgroup is delegated: %s", envVMTest, why)
	}
	return false, nil
}

// noDelegationCondition answers [nodeleg]: nothing is delegated and no
// systemd user manager could make a scope, so nook run takes its
// warning path.
func noDelegationCondition() (bool, error) {
	d, err := cgroupdeleg.Find(cgroupdeleg.Options{})
	if err != nil {
		return false, err
	}
	return !d.Usable() && !d.UserManager, nil
}

// containerCgroup is the cgroup directory container name's record holds.
func containerCgroup(ts *testscript.TestScript, name string) string {
	store := ts.Getenv("STORE")
	id, err := os.ReadFile(filepath.Join(store, "containers", "names", name))
	ts.Check(err)
	b, err := os.ReadFile(filepath.Join(store, "containers", string(id), "container.json"))
	ts.Check(err)
	var rec struct {
		Cgroup string `json:"cgroup"`
	}
	ts.Check(json.Unmarshal(b, &rec))
	if rec.Cgroup == "" {
		ts.Fatalf("container %s has no cgroup", name)
	}
	return rec.Cgroup
}

// cmdCgroupFile prints a file of a container's cgroup:
//
//	cgroupfile NAME FILE
func cmdCgroupFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: cgroupfile NAME FILE")
	}
	b, err := os.ReadFile(filepath.Join(containerCgroup(ts, args[0]), args[1]))
	if neg {
		if err == nil {
			ts.Fatalf("%s of %s can be read", args[1], args[0])
		}
		return
	}
	ts.Check(err)
	ts.Stdout().Write(b)
}

// cmdCgroupsLeft fails if a container cgroup of nook's (nook-*) is left
// in the delegated subtree, and lists them; with ! it fails if none is.
func cmdCgroupsLeft(ts *testscript.TestScript, neg bool, args []string) {
	d, err := cgroupdeleg.Find(cgroupdeleg.Options{})
	ts.Check(err)
	if !d.Usable() {
		ts.Fatalf("no delegated cgroup: %s", d.Reason)
	}
	ents, err := os.ReadDir(d.BaseDir())
	ts.Check(err)
	var left []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "nook-") {
			left = append(left, filepath.Join(d.BaseDir(), e.Name()))
		}
	}
	switch {
	case neg && len(left) == 0:
		ts.Fatalf("no container cgroup left in %s", d.BaseDir())
	case !neg && len(left) > 0:
		ts.Fatalf("container cgroups left behind: %q", left)
	}
	for _, l := range left {
		fmt.Fprintln(ts.Stdout(), l)
	}
}
