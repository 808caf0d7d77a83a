package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// stopTimeout bounds how long a serving container may take to end after
// SIGTERM, and leftoverTimeout how long the processes a run started may
// take to exit after it returned (podman's conmon runs `podman container
// cleanup` after podman run has gone).
const (
	stopTimeout     = 30 * time.Second
	leftoverTimeout = 10 * time.Second
	leftoverPoll    = 20 * time.Millisecond
)

// serving is a container running in the foreground through the host
// runner: the runner's one connection is busy until it ends, so nothing
// else may use the host client meanwhile.
type serving struct {
	args  []string
	ended chan error
	// over is set once the run's end has been taken from ended.
	over bool
}

// startServing runs args through the host runner in a goroutine.
func startServing(host *hostClient, env, args []string) *serving {
	s := &serving{args: args, ended: make(chan error, 1)}
	go func() {
		_, err := host.run(env, args...)
		s.ended <- err
	}()
	return s
}

// waitAnswer polls addr with fetch until the container answers through
// its published port, the run ends, or readyTimeout passes.
func (s *serving) waitAnswer(addr string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		_, err := fetch(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the container does not answer on %s after %s: %w", addr, readyTimeout, err)
		}
		select {
		case end := <-s.ended:
			s.over = true
			if end == nil {
				end = errors.New("it exited 0")
			}
			return fmt.Errorf("the serving container ended before it answered on %s: %w (last attempt: %v)", addr, end, err)
		case <-time.After(readyPoll):
		}
	}
}

// stop sends SIGTERM to the serving command, as a user's Ctrl-C or kill
// would: nook and podman pass it to the container's init (both run with
// --init), which passes it on, and the container ends. The command's
// exit status 143 (killed by SIGTERM, passed on) counts as a clean end.
// A command that does not end within stopTimeout is killed and reported.
// Stopping a run that is over does nothing.
func (s *serving) stop() error {
	if s.over {
		return nil
	}
	s.over = true
	pid, err := hostChild(s.args)
	if err != nil {
		// Nothing to signal; the run may be ending by itself.
		select {
		case end := <-s.ended:
			return errors.Join(err, end)
		case <-time.After(stopTimeout):
			return fmt.Errorf("%w, and it has not ended after %s", err, stopTimeout)
		}
	}
	if err := unix.Kill(pid, unix.SIGTERM); err != nil {
		return fmt.Errorf("send SIGTERM to %s (pid %d): %w", s.args[0], pid, err)
	}
	select {
	case end := <-s.ended:
		if end != nil && !strings.Contains(end.Error(), ": exit status 143") {
			return fmt.Errorf("the serving container, after SIGTERM: %w", end)
		}
		return nil
	case <-time.After(stopTimeout):
		unix.Kill(pid, unix.SIGKILL)
		end := <-s.ended
		return fmt.Errorf("%s did not end within %s of SIGTERM; killed it: %v", s.args[0], stopTimeout, end)
	}
}

// hostChild finds the process the host runner started for args: the
// runner lives in the benchmark's parent (nstest's outer process, on the
// host), so it is the parent's child, other than this process, whose
// command line is args.
func hostChild(args []string) (int, error) {
	runner := os.Getppid()
	want := strings.Join(args, "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("find the host runner's child: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.ppid != runner {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.TrimSuffix(string(cmdline), "\x00") == want {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("find the host runner's child: no child of pid %d runs %s", runner, strings.Join(args, " "))
}

// procStat is what hostChild and leftovers read from /proc/PID/stat.
type procStat struct {
	comm  string
	state byte
	ppid  int
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// "PID (COMM) STATE PPID ...": comm may hold spaces and parentheses,
	// so it ends at the last ")".
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return procStat{comm: string(b[open+1 : end]), state: f[0][0], ppid: ppid}, nil
}

// leftovers lists the live processes of this user that belong to the
// benchmark's directory dir: their command line or environment names it.
// Every process nook and podman start for a container does (the stores,
// runtime and configuration directories are all under dir, and each
// child inherits its parent's environment): the nook monitor, pasta,
// slirp4netns, the port helper; podman, conmon, slirp4netns,
// rootlessport, fuse-overlayfs. Zombies have ended and do not count, nor
// the pids in keep (podman's pause process).
//
// The search runs on the host, through the host runner: the kernel lets
// no process in a user namespace below the host's (such as this one)
// read the environment of a process outside it, even the same user's.
// The sh and grep doing the search name dir too, but have exited by the
// time their output is read.
func leftovers(host *hostClient, dir string, keep ...int) ([]string, error) {
	out, err := host.output(nil, "sh", "-c", `grep -lsF -- "$1" /proc/[0-9]*/cmdline /proc/[0-9]*/environ; true`, "sh", dir)
	if err != nil {
		return nil, fmt.Errorf("list the processes that name %s: %w", dir, err)
	}
	var found []string
	seen := map[int]bool{}
	for _, path := range strings.Fields(out) {
		// /proc/PID/cmdline or /proc/PID/environ
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || seen[pid] || pid == os.Getpid() || slices.Contains(keep, pid) {
			continue
		}
		seen[pid] = true
		st, err := readStat(pid)
		if err != nil || st.state == 'Z' || st.state == 'X' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		args := strings.ReplaceAll(strings.TrimSuffix(string(cmdline), "\x00"), "\x00", " ")
		found = append(found, fmt.Sprintf("%d %s (%s)", pid, st.comm, clipText(args)))
	}
	return found, nil
}

// noLeftovers waits, up to leftoverTimeout, for leftovers to be empty,
// and names what still runs after that.
func noLeftovers(host *hostClient, dir string, keep ...int) error {
	deadline := time.Now().Add(leftoverTimeout)
	for {
		found, err := leftovers(host, dir, keep...)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes still run %s after the containers ended: %s", len(found), leftoverTimeout, strings.Join(found, "; "))
		}
		time.Sleep(leftoverPoll)
	}
}
