package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/run/ctrcopy"
	"github.com/nookrun/nook/userns"
)

// nook exec starts a process in a running container's namespaces, root
// and cgroup. A Go process cannot setns into a user or mount namespace
// (it is multi-threaded from its start), so the monitor runs nsenter (a
// small single-threaded C program from util-linux, which the network
// drivers need anyway) with the container's first process as target and
// the container's cgroup as the clone's cgroup (CLONE_INTO_CGROUP);
// nsenter enters every namespace (the mount namespace's root is the
// container's root, pivot_root made it so), forks
// into the PID namespace and executes nook's RoleExec from a descriptor,
// which sets up the process as the workload was (user, capabilities,
// no_new_privs, seccomp, tty) and executes the command. No process stays
// in the container for exec's sake, and PID 1 is still the workload:
// runc's cgo constructor (nsexec) would do the same inside nook, at the
// price of cgo in every nook process.

// ExecRequest is one nook exec.
type ExecRequest struct {
	Args []string `json:"args"`
	// Env is added to the container's environment.
	Env []string `json:"env,omitempty"`
	// Cwd and User, when set, replace the container's.
	Cwd  string `json:"cwd,omitempty"`
	User string `json:"user,omitempty"`
	Tty  bool   `json:"tty,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// Detach returns once the process runs (exec -d).
	Detach bool `json:"detach,omitempty"`
	// Copy, instead of a command, runs nook cp's container side: a tar
	// of a path on stdout, or a tar on stdin extracted at a path.
	Copy *CopyRequest `json:"copy,omitempty"`
}

// CopyRequest is nook cp's container side.
type CopyRequest struct {
	// Out packs Path; otherwise the tar on stdin is unpacked at Path.
	Out    bool                  `json:"out,omitempty"`
	Path   string                `json:"path"`
	Pack   ctrcopy.PackOptions   `json:"pack"`
	Unpack ctrcopy.UnpackOptions `json:"unpack"`
}

// execFDs are the descriptors RoleExec gets: nook's binary (for
// nsenter to execute) and the socket to the monitor.
const (
	execExeFD    = 3
	execSocketFD = 4
	// execCgroupNSFD, when the spec says JoinCgroupNS, is the workload's
	// cgroup namespace, for an nsenter without --cgroup (busybox's).
	execCgroupNSFD = 5
)

// serveExec runs one nook exec; fds are its stdin, stdout and stderr.
func (s *Supervisor) serveExec(f *os.File, req *ExecRequest, fds []int) {
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), "stdio")
	}
	defer func() {
		for _, fl := range files {
			fl.Close()
		}
	}()
	fail := func(code int, err error) {
		sendPacket(f, ctlReply{Type: ctlError, Error: err.Error(), Code: code}, nil)
	}
	if req == nil || (len(req.Args) == 0 && req.Copy == nil) || len(files) != 3 {
		fail(exitNookError, errors.New("exec: a command and three descriptors are needed"))
		return
	}
	s.mu.Lock()
	pid := s.curPID
	if pid > 0 {
		s.execs.Add(1)
	}
	s.mu.Unlock()
	if pid <= 0 {
		sendPacket(f, ctlReply{Type: ctlNotRunning}, nil)
		return
	}
	defer s.execs.Done()
	code, err := s.exec(f, req, files, pid)
	if err != nil {
		fail(code, err)
		return
	}
	sendPacket(f, ctlReply{Type: ctlExit, Code: code}, nil)
}

// errNsenterFailed: the exec's socket closed before the process said it
// was starting (nor was it a copy, which never says so).
var errNsenterFailed = errors.New("nsenter failed")

// exec starts the process and waits for it.
func (s *Supervisor) exec(f *os.File, req *ExecRequest, stdio []*os.File, pid int) (int, error) {
	if s.Nsenter == "" {
		return exitNookError, errors.New("exec needs nsenter, which is not installed (it is in util-linux: sudo apt-get install util-linux)")
	}
	target, outer := execTargets(pid, s.Settings, s.Container)
	exe, err := os.Open(s.Exe)
	if err != nil {
		return exitNookError, fmt.Errorf("open nook's binary for exec: %w", err)
	}
	defer exe.Close()
	mine, theirs, err := newSocketpair()
	if err != nil {
		return exitNookError, err
	}
	defer mine.Close()
	entry := nsenterEntry{target: target, outer: outer, net: s.Container.Network != "host"}
	if plan := s.Container.UserNS; plan != nil {
		entry.innerRoot = hasRoot(plan.InnerUIDs) && hasRoot(plan.InnerGIDs)
	}
	cmd := &exec.Cmd{
		Path:        s.Nsenter,
		Stdin:       stdio[0],
		Stdout:      stdio[1],
		Stderr:      stdio[2],
		ExtraFiles:  []*os.File{exe, theirs},
		SysProcAttr: &syscall.SysProcAttr{},
	}
	spec := s.execSpec(req)
	if cg := s.Container.Cgroup; cg != "" {
		if s.nsenterHasCgroup() {
			entry.cgroup = true
		} else {
			ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/cgroup", target))
			if err != nil {
				theirs.Close()
				return exitNookError, fmt.Errorf("open the container's cgroup namespace for exec: %w", err)
			}
			defer ns.Close()
			cmd.ExtraFiles = append(cmd.ExtraFiles, ns)
			spec.JoinCgroupNS = true
		}
		fd, err := unix.Open(cg, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			theirs.Close()
			return exitNookError, fmt.Errorf("open the container's cgroup for exec: %w", err)
		}
		defer unix.Close(fd)
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
	}
	cmd.Args = append(entry.args(s.Nsenter), "/proc/self/fd/"+strconv.Itoa(execExeFD), RoleExec)
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		return exitNookError, fmt.Errorf("exec: start nsenter: %w", err)
	}
	ch := channel{f: mine}
	if err := ch.send(message{Type: msgSpec, Spec: spec}, -1); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return exitNookError, err
	}
	// The socket closes when the process ends (nsenter holds it till
	// then); msgStarting says the exec is under way.
	started, announced := false, false
	var startErr error
	startCode := exitNookError
	for !started && startErr == nil {
		m, fd, err := ch.recv()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET):
			// Reset: the socket closed with the spec unread.
			started = true
			if !announced && req.Copy == nil {
				startErr = errNsenterFailed
			}
		case err == nil && m.Type == msgStarting:
			announced = true
			if req.Detach {
				started = true
			}
		case err != nil:
			startErr = err
		case m.Type == msgPTY:
			sendPacket(f, ctlReply{Type: ctlPTY}, []int{fd})
			unix.Close(fd)
		case m.Type == msgExecError || m.Type == msgError:
			startErr, startCode = errors.New(m.Error), m.Code
			if m.Type == msgError {
				startCode = exitNookError
			}
		default:
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}
	if startErr == nil && req.Detach {
		sendPacket(f, ctlReply{Type: ctlOK}, nil)
		// The client has gone; the process runs on.
		mine.Close()
	}
	werr := cmd.Wait()
	if startErr == errNsenterFailed {
		// nsenter's own message went to the client's stderr.
		return exitNookError, fmt.Errorf("exec: could not enter the container (nsenter: %v)", werr)
	}
	if startErr != nil {
		return startCode, startErr
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return exitStatus(unix.WaitStatus(ee.Sys().(syscall.WaitStatus))), nil
	}
	if werr != nil {
		return exitNookError, fmt.Errorf("exec: %w", werr)
	}
	return 0, nil
}

// execSpec is the process nook exec starts, as the container's workload
// would be set up, with the request's changes.
func (s *Supervisor) execSpec(req *ExecRequest) *childSpec {
	p := s.Settings.Process
	proc := Process{
		Args:    req.Args,
		Env:     mergeEnv(p.Env, req.Env),
		Cwd:     p.Cwd,
		User:    p.User,
		Tty:     req.Tty,
		Rows:    req.Rows,
		Cols:    req.Cols,
		Rlimits: p.Rlimits,
	}
	plan := s.Container.UserNS
	if plan != nil && plan.Mode == userns.KeepID && proc.User == "" {
		proc.User = fmt.Sprintf("%d:%d", plan.ContainerUID, plan.ContainerGID)
	}
	if req.Cwd != "" {
		proc.Cwd = req.Cwd
	}
	if req.User != "" {
		proc.User = req.User
	}
	return &childSpec{
		Hostname: s.Settings.Hostname,
		Process:  proc,
		SingleID: plan != nil && plan.Mode == userns.Single,
		Copy:     req.Copy,
		Announce: true,
	}
}

// mergeEnv is base with the KEY=VALUEs of extra replacing its own.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	override := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !override[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// Exec runs req in a running container with stdin, stdout and stderr
// (with a tty, the user's terminal is relayed to one of the container's
// own) and returns its exit status. A process that could not start gives
// a *StartError with Docker's status for it (126, 127).
func (cs *Containers) Exec(c *Container, req ExecRequest, stdin, stdout, stderr *os.File) (int, error) {
	f, err := cs.dialControl(c)
	if err != nil {
		return exitNookError, err
	}
	defer f.Close()
	fds := []int{int(stdin.Fd()), int(stdout.Fd()), int(stderr.Fd())}
	if err := sendPacket(f, ctlRequest{Type: ctlExec, Exec: &req}, fds); err != nil {
		return exitNookError, fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	var tty *ttyRelay
	defer func() {
		if tty != nil {
			tty.stop()
		}
	}()
	for {
		var rep ctlReply
		got, err := recvPacket(f, &rep)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return exitNookError, fmt.Errorf("exec in %s: the container's monitor ended", c.Name)
			}
			return exitNookError, fmt.Errorf("exec in %s: %w", c.Name, err)
		}
		switch rep.Type {
		case ctlPTY:
			if len(got) == 0 {
				return exitNookError, fmt.Errorf("exec in %s: pty message without a pty", c.Name)
			}
			closeFDs(got[1:])
			if tty, err = startTTYRelay(got[0], stdin, stdout); err != nil {
				return exitNookError, err
			}
		case ctlOK:
			return 0, nil // exec -d: it runs
		case ctlNotRunning:
			return exitNookError, fmt.Errorf("%w: %s", ErrNotRunning, c.Name)
		case ctlError:
			closeFDs(got)
			return rep.Code, &StartError{Code: rep.Code, Err: errors.New(rep.Error)}
		case ctlExit:
			if tty != nil {
				tty.wait()
				tty = nil
			}
			return rep.Code, nil
		default:
			closeFDs(got)
		}
	}
}
