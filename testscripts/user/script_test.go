// Package usertest tests nook's commands as a user runs them, in the host's
// namespaces as the invoking user: each *.txtar file here is a testscript
// (github.com/rogpeppe/go-internal/testscript) about one concept.
//
// Unlike ../ (whose test binary is root of a user namespace it made), these
// scripts need the real user: nook run makes its own user namespace with
// newuidmap, which refuses to work from inside a nested one.
//
// Run one script: go test ./testscripts/user -run 'TestScripts/image_load'
package usertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nookrun/nook/internal/cli/nook"
	"github.com/nookrun/nook/internal/scripttest"
)

// commands are the programs the scripts run, by the name a copy of the test
// binary is called.
func commands() map[string]func() int {
	return map[string]func() int{
		"nook":     nook.Main,
		"exits":    exitsMain,
		"udpechod": udpechodMain,
		"dnsd":     dnsdMain,
	}
}

// TestMain runs a command when the binary was started under a command's
// name (by a script, or re-executed by nook itself, which keeps
// os.Args[0]); otherwise it runs the tests, in the host's namespaces.
func TestMain(m *testing.M) {
	if run, ok := commands()[filepath.Base(os.Args[0])]; ok {
		os.Exit(run())
	}
	os.Exit(m.Run())
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

// setup gives each script its own home and XDG directories under $WORK
// (so the default store is $WORK/.home/.local/share/nook, exported as
// $STORE), the commands on PATH ($NOOKBIN), and a check at the end that no
// container's process, mount or runtime directory outlived the script.
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
	env.Setenv("STORE", filepath.Join(dirs["XDG_DATA_HOME"], "nook"))
	env.Setenv("NOOKBIN", bin)
	env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
	// Runs before testscript stops the script's background commands, so
	// a container left running counts as left behind.
	env.Defer(func() { checkLeftovers(env) })
	return nil
}
