package usertest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/mountinfo"
)

// The kinds of thing a container can leave behind, as the leftovers
// command's -only names them.
const (
	leftProcs   = "procs"   // processes of the script
	leftMounts  = "mounts"  // mounts under $WORK in the host's namespace
	leftRuntime = "runtime" // entries in $XDG_RUNTIME_DIR/nook
	leftStore   = "store"   // containers in $STORE/containers
)

var allLeftovers = []string{leftProcs, leftMounts, leftRuntime, leftStore}

// describeLeftovers says what the script whose environment env reads
// left behind of the kinds asked, one item a string, and in dirs (each
// must be empty or missing).
func describeLeftovers(getenv func(string) string, kinds []string, dirs []string) ([]string, error) {
	work := getenv("WORK")
	var left []string
	for _, k := range kinds {
		switch k {
		case leftProcs:
			ps, err := scriptProcs(work)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				left = append(left, p.String())
			}
		case leftMounts:
			ms, err := mountinfo.Read()
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				if within(m.Point, work) {
					left = append(left, fmt.Sprintf("mount %s (%s)", m.Point, m.FSType))
				}
			}
		case leftRuntime:
			names, err := dirEntries(filepath.Join(getenv("XDG_RUNTIME_DIR"), "nook"))
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				left = append(left, "runtime directory entry "+n)
			}
		case leftStore:
			dir := filepath.Join(getenv("STORE"), "containers")
			names, err := dirEntries(dir)
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				if n != "names" {
					left = append(left, "container directory "+n)
				}
			}
			names, err = dirEntries(filepath.Join(dir, "names"))
			if err != nil {
				return nil, err
			}
			for _, n := range names {
				left = append(left, "container name "+n)
			}
		default:
			return nil, fmt.Errorf("unknown kind of leftover %q: want %s", k, strings.Join(allLeftovers, ", "))
		}
	}
	for _, d := range dirs {
		names, err := dirEntries(d)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			left = append(left, filepath.Join(d, n))
		}
	}
	return left, nil
}

// dirEntries lists dir's names; a missing dir has none.
func dirEntries(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

// cmdLeftovers checks that nothing of a container is left: no process of
// the script, no mount under $WORK, nothing in the runtime directory, no
// container in the store, and nothing in the DIRs given. With ! it checks
// that something is left. It looks once, without waiting: nook run returns
// only after its container's processes are gone.
func cmdLeftovers(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("leftovers", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	only := fs.String("only", strings.Join(allLeftovers, ","), "the kinds to look for")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("usage: leftovers [-only %s] [DIR...]", strings.Join(allLeftovers, ","))
	}
	dirs := make([]string, fs.NArg())
	for i, d := range fs.Args() {
		dirs[i] = ts.MkAbs(d)
	}
	left, err := describeLeftovers(ts.Getenv, strings.Split(*only, ","), dirs)
	ts.Check(err)
	switch {
	case neg && len(left) == 0:
		ts.Fatalf("nothing left behind")
	case !neg && len(left) > 0:
		ts.Fatalf("left behind: %q", left)
	}
	for _, l := range left {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

// checkLeftovers is the check at the end of every script: no process,
// mount or runtime directory of a container may outlive it. (Stopped
// containers may stay in the store: that is what nook run without --rm
// is for.) Processes get waitLimit to go, since one whose monitor was
// killed dies on its own time; what is still there then is killed, so
// that it does not outlive the test, and reported.
func checkLeftovers(env *testscript.Env) {
	deadline := time.Now().Add(waitLimit)
	for {
		ps, err := scriptProcs(env.Getenv("WORK"))
		if err != nil {
			env.T().Fatal(err)
			return
		}
		if len(ps) == 0 {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			for _, p := range ps {
				unix.Kill(p.pid, unix.SIGKILL)
			}
			env.T().Fatal(fmt.Sprintf("the script left processes behind (now killed): %q", ps))
			return
		}
		if err := waitAnyExit(ps, left); err != nil {
			env.T().Fatal(err)
			return
		}
	}
	left, err := describeLeftovers(env.Getenv, []string{leftMounts, leftRuntime}, nil)
	if err != nil {
		env.T().Fatal(err)
		return
	}
	if len(left) > 0 {
		env.T().Fatal(fmt.Sprintf("the script left behind: %q", left))
	}
}
