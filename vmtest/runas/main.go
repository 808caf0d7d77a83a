// Command runas starts a test binary in make vmtest's VM the way a login
// would start a user's program: in the user's cgroup, as the user.
//
//	runas -uid UID -gid GID [-cgroup DIR] [-dir DIR] -- PROGRAM [ARG...]
//
// It moves itself into the cgroup first (while it is still root, so the
// program starts inside the delegated subtree), then sets the groups, gid
// and uid of every thread, changes directory, and execs PROGRAM with its
// own environment. busybox's setpriv cannot set real and saved ids, and su
// needs a shell; this is the smallest thing that does exactly this.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "runas: %v\n", err)
		// 127, as a shell says for a program it could not start.
		os.Exit(127)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("runas", flag.ContinueOnError)
	uid := fs.Int("uid", -1, "user id")
	gid := fs.Int("gid", -1, "group id (also the only supplementary group)")
	cgroup := fs.String("cgroup", "", "cgroup v2 directory to join first")
	dir := fs.String("dir", "", "working directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *uid < 0 || *gid < 0 || fs.NArg() == 0 {
		return fmt.Errorf("usage: runas -uid UID -gid GID [-cgroup DIR] [-dir DIR] -- PROGRAM [ARG...]")
	}
	if *cgroup != "" {
		procs := filepath.Join(*cgroup, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", *cgroup, err)
		}
	}
	// Go applies these to every thread of the process (since Go 1.16).
	if err := syscall.Setgroups([]int{*gid}); err != nil {
		return fmt.Errorf("setgroups %d: %w", *gid, err)
	}
	if err := syscall.Setgid(*gid); err != nil {
		return fmt.Errorf("setgid %d: %w", *gid, err)
	}
	if err := syscall.Setuid(*uid); err != nil {
		return fmt.Errorf("setuid %d: %w", *uid, err)
	}
	if *dir != "" {
		if err := os.Chdir(*dir); err != nil {
			return fmt.Errorf("change to %s: %w", *dir, err)
		}
	}
	prog, err := exec.LookPath(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("find %s: %w", fs.Arg(0), err)
	}
	if err := syscall.Exec(prog, fs.Args(), os.Environ()); err != nil {
		return fmt.Errorf("exec %s: %w", prog, err)
	}
	return nil
}
