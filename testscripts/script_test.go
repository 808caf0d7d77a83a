// Package testscripts tests nook's commands as a user runs them: each
// *.txtar file here is a testscript (github.com/rogpeppe/go-internal/testscript)
// about one concept. The test binary runs as root of a new user and mount
// namespace (internal/nstest), so a script can mount FUSE, overlayfs and
// tmpfs, and a mount made by one command is there for the next.
//
// Run one script: go test ./testscripts -run 'TestScripts/overlayfs_daemon'
package testscripts

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/internal/cli/nook"
	"github.com/nookrun/nook/internal/cli/overlayfs"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/internal/scripttest"
)

// commands are the programs the scripts run, by the name a copy of the test
// binary is called.
func commands() map[string]func() int {
	return map[string]func() int{
		"nook":           nook.Main,
		"nook-overlayfs": overlayfs.Main,
	}
}

// TestMain runs a command when the binary was started under a command's
// name (by a script, by mount.fuse3, or as a re-executed daemon, which keeps
// os.Args[0]); otherwise it runs the tests inside a new user and mount
// namespace.
//
// This is testscript.Main's dispatch done by hand: testscript.Main would
// run nstest.Main's re-executions inside its own and leave a copy of the
// binary in a temporary directory per stage, because nstest exits without
// returning. TestScripts puts the commands on PATH itself.
func TestMain(m *testing.M) {
	if run, ok := commands()[filepath.Base(os.Args[0])]; ok {
		os.Exit(run())
	}
	nstest.Main(m)
}

func TestScripts(t *testing.T) {
	bin := installCommands(t)
	p := &probes{}
	testscript.Run(t, testscript.Params{
		Dir: ".",
		// The commands are reached only through exec: every separate
		// process is explicit in the scripts.
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			return setup(env, bin)
		},
		Condition: p.condition,
		Cmds:      scriptCommands(),
	})
}

// installCommands puts the test binary on PATH under each command's name.
func installCommands(t *testing.T) string {
	names := make([]string, 0, len(commands()))
	for name := range commands() {
		names = append(names, name)
	}
	return scripttest.InstallCommands(t, names)
}

// setup gives each script its own home and XDG directories under $WORK,
// the commands on PATH ($NOOKBIN), and a check at the end that it left no
// mount and no nook-overlayfs process behind.
func setup(env *testscript.Env, bin string) error {
	work := env.WorkDir
	dirs := map[string]string{
		"HOME":            filepath.Join(work, ".home"),
		"XDG_DATA_HOME":   filepath.Join(work, ".home", ".local", "share"),
		"XDG_CONFIG_HOME": filepath.Join(work, ".home", ".config"),
		"XDG_CACHE_HOME":  filepath.Join(work, ".home", ".cache"),
		"XDG_RUNTIME_DIR": filepath.Join(work, ".run"),
	}
	for key, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("make %s: %w", key, err)
		}
		env.Setenv(key, dir)
	}
	env.Values[readyKey{}] = &readySocket{}
	env.Setenv("NOOKBIN", bin)
	env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
	env.Defer(func() {
		// Runs before testscript stops the script's background commands,
		// so a foreground server left running counts as left behind.
		if left := cleanLeftovers(work); len(left) > 0 {
			env.T().Fatal(fmt.Sprintf("the script left behind (now cleaned up): %q", left))
		}
	})
	return nil
}
