//go:build vmtest

package usertest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestVMScripts runs the scripts about cgroup limits in make vmtest's VM,
// where a cgroup v2 subtree is delegated to the user ([cgroupdeleg] must
// hold there), and run_basic.txtar as the smoke test of a container there.
// One script at a time: they share the delegated cgroup, and cgroupsleft
// counts every container cgroup in it.
func TestVMScripts(t *testing.T) {
	files, err := filepath.Glob("cgroup_*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cgroup scripts: %v", err)
	}
	files = append(files, "run_basic.txtar")
	bin := installCommands(t)
	p := &probes{}
	for _, f := range files {
		// t.Run returns once the script's (parallel) subtest is done.
		t.Run(strings.TrimSuffix(f, ".txtar"), func(t *testing.T) {
			testscript.Run(t, testscript.Params{
				Files:               []string{f},
				RequireExplicitExec: true,
				RequireUniqueNames:  true,
				Setup: func(env *testscript.Env) error {
					return setup(env, bin)
				},
				Condition: p.condition,
				Cmds:      scriptCommands(),
			})
		})
	}
}
