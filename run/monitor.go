package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/fuseunion"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/userns"
)

// forwarded are the signals the monitor passes on to the container.
var forwarded = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// Run starts the container described by cfg, serves its root filesystem,
// relays signals and the terminal, and returns how the workload ended
// once it has, and the union and the container's cgroup are gone. A
// container that did not start gives a *StartError; nothing of it is left
// running or mounted.
func Run(ctx context.Context, cfg Config) (exit Exit, err error) {
	if cfg.Cgroup != nil {
		if err := cfg.Cgroup.Create(); err != nil {
			return Exit{Code: exitNookError}, fmt.Errorf("create the container's cgroup: %w", err)
		}
		// Whatever happens, the container's processes are gone by
		// then (the child's PID namespace went with it).
		defer func() {
			exit.OOMKilled = cfg.Cgroup.OOMKilled()
			if rerr := cfg.Cgroup.Remove(); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	code, err := run(cfg)
	return Exit{Code: code}, err
}

// run is Run without the cgroup's life.
func run(cfg Config) (int, error) {
	if err := closeInheritedOnExec(); err != nil {
		return exitNookError, fmt.Errorf("close inherited descriptors: %w", err)
	}
	rootfs := filepath.Join(cfg.StateDir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o700); err != nil {
		return exitNookError, fmt.Errorf("create %s: %w", rootfs, err)
	}
	etc, err := writeEtcFiles(cfg)
	if err != nil {
		return exitNookError, err
	}
	lowers, err := openLowers(cfg.Layers)
	if cfg.LayersOpened != nil {
		cfg.LayersOpened()
	}
	if err != nil {
		return exitNookError, err
	}
	mon, childEnd, err := newSocketpair()
	if err != nil {
		closeLowers(lowers)
		return exitNookError, err
	}
	defer mon.Close()
	ch := channel{f: mon}

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	stdio, err := pipeTerminals(&cfg)
	if err != nil {
		childEnd.Close()
		closeLowers(lowers)
		return exitNookError, err
	}
	c, err := startChild(cfg, childEnd)
	childEnd.Close()
	stdio.CloseChildEnds()
	if cfg.Cgroup != nil {
		cfg.Cgroup.Close()
	}
	if err != nil {
		closeLowers(lowers)
		return exitNookError, err
	}
	r := &running{cfg: cfg, ch: ch, child: c, stdio: stdio}
	code, err := r.start(lowers, rootfs, etc)
	if err != nil {
		r.kill()
		r.finish()
		return code, err
	}
	for {
		select {
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig == unix.SIGTERM && cfg.StopSignal != 0 {
				sig = cfg.StopSignal
			}
			unix.Kill(c.pid, sig)
		case <-c.done:
			return r.finish(), nil
		}
	}
}

// running is a started container, seen from the monitor.
type running struct {
	cfg   Config
	ch    channel
	child *child
	srv   *fuseunion.Server
	tty   *ttyRelay
	stdio *TerminalPipes
	// net is the container's network driver, once attached.
	net *network.Attached
}

// start takes the container from a fresh child to a running workload,
// following the protocol in proto.go.
func (r *running) start(lowers []fuseunion.Lower, rootfs string, etc []Mount) (int, error) {
	if !r.cfg.mapsWritten() {
		if err := r.cfg.UserNS.Apply(r.child.pid); err != nil {
			closeLowers(lowers)
			return exitNookError, fmt.Errorf("map ids into the container's user namespace: %w", err)
		}
		if err := r.ch.send(message{Type: msgMapped}, -1); err != nil {
			closeLowers(lowers)
			return exitNookError, err
		}
	}
	spec := r.spec(rootfs, etc)
	if err := r.ch.send(message{Type: msgSpec, Spec: spec}, -1); err != nil {
		closeLowers(lowers)
		return exitNookError, err
	}
	// The network driver starts while the child mounts the union: the
	// child waits for msgServing before it leaves the host's tree, so
	// the driver's helpers still find the host's binaries there.
	attached := r.attachNetwork()
	_, fd, err := r.ch.expect(msgFUSE)
	if err != nil {
		closeLowers(lowers)
		r.waitNetwork(attached)
		return exitNookError, r.childError(err)
	}
	r.srv, err = fuseunion.Mount(fmt.Sprintf("/dev/fd/%d", fd), r.unionConfig(lowers))
	if err != nil {
		unix.Close(fd)
		r.waitNetwork(attached)
		return exitNookError, fmt.Errorf("serve the container's root: %w", err)
	}
	iface, err := r.waitNetwork(attached)
	if err != nil {
		return exitNookError, &StartError{Code: exitNookError, Err: err}
	}
	if err := r.ch.send(message{Type: msgServing, Interface: iface}, -1); err != nil {
		return exitNookError, err
	}
	for {
		m, fd, err := r.ch.recv()
		if errors.Is(err, io.EOF) {
			// The socket is close-on-exec: the workload runs.
			if r.cfg.Started != nil {
				r.cfg.Started(r.child.pid)
			}
			return 0, nil
		}
		if err != nil {
			return exitNookError, r.childError(err)
		}
		switch m.Type {
		case msgPTY:
			r.tty, err = startTTYRelay(fd, r.cfg.Stdin, r.cfg.Stdout)
			if err != nil {
				return exitNookError, err
			}
			if r.cfg.OnPTY != nil {
				r.cfg.OnPTY(r.tty.master)
			}
		case msgExecError:
			return m.Code, &StartError{Code: m.Code, Err: errors.New(m.Error)}
		case msgError:
			return exitNookError, &StartError{Code: exitNookError, Err: errors.New(m.Error)}
		default:
			if fd >= 0 {
				unix.Close(fd)
			}
			return exitNookError, fmt.Errorf("container start: unexpected %s message", m.Type)
		}
	}
}

// childError prefers what the child said over what the socket saw when
// the child died.
func (r *running) childError(err error) error {
	return &StartError{Code: exitNookError, Err: fmt.Errorf("container start: %w", err)}
}

func (r *running) spec(rootfs string, etc []Mount) *childSpec {
	gid5 := false
	for _, m := range r.cfg.UserNS.GIDs {
		if m.ContainerID <= 5 && 5 < m.ContainerID+m.Size {
			gid5 = true
		}
	}
	var nested *nestedMaps
	var acct *account
	proc := r.cfg.Process
	if plan := r.cfg.UserNS; plan.Mode == userns.KeepID {
		nested = &nestedMaps{UIDs: plan.InnerUIDs, GIDs: plan.InnerGIDs, CgroupNS: r.cfg.Cgroup != nil, DenySetgroups: plan.Direct()}
		acct = keepIDAccount(r.cfg.HostUser, plan)
		if proc.User == "" {
			proc.User = fmt.Sprintf("%d:%d", plan.ContainerUID, plan.ContainerGID)
		}
	}
	device := r.cfg.FUSEDevice
	if device == "" {
		device = "/dev/fuse"
	}
	return &childSpec{
		FUSEDevice: device,
		Nested:     nested,
		Account:    acct,
		Rootfs:     rootfs,
		ReadOnly:   r.cfg.ReadOnly,
		Hostname:   r.cfg.Hostname,
		NetNS:      !r.cfg.hostNetwork(),
		CgroupNS:   r.cfg.Cgroup != nil,
		Mounts:     append(etc, r.cfg.Mounts...),
		Process:    proc,
		Copy:       r.cfg.Copy,
		SingleID:   r.cfg.UserNS.Mode == userns.Single,
		GID5:       gid5,
	}
}

// unionConfig serves the image's layers under the container's upper. The
// FUSE connection belongs to the container's user namespace, so ids go
// out as the container sees them; the upper's files, owned on the host
// by the user, show as whatever the user is mapped to there.
func (r *running) unionConfig(lowers []fuseunion.Lower) fuseunion.Config {
	plan := r.cfg.UserNS
	owner := &fuseunion.Owner{
		UID: containerID(plan.UIDs, uint32(os.Getuid())),
		GID: containerID(plan.GIDs, uint32(os.Getgid())),
	}
	var idmap *fuseunion.IDMap
	if plan.Mode == userns.KeepID {
		// The connection belongs to the container's user namespace; the
		// workload and the image's ids live in the nested one.
		owner.UID, owner.GID = uint32(plan.ContainerUID), uint32(plan.ContainerGID)
		idmap = &fuseunion.IDMap{UIDs: idRanges(plan.InnerUIDs), GIDs: idRanges(plan.InnerGIDs)}
	}
	// A container's end aborts the connection, which go-fuse logs; only
	// --fuse-debug wants to see that.
	logger := log.New(io.Discard, "", 0)
	if r.cfg.FUSEDebug {
		logger = log.New(r.cfg.Stderr, "", log.LstdFlags)
	}
	return fuseunion.Config{
		Logger:   logger,
		IDMap:    idmap,
		Lowers:   lowers,
		Upper:    r.cfg.Upper,
		Work:     r.cfg.Work,
		FsName:   "nook",
		Debug:    r.cfg.FUSEDebug,
		Owner:    owner,
		Squash:   squashOwners(plan),
		Volatile: r.cfg.Volatile,
	}
}

// squashOwners: the container maps a single id (the user's), so every
// other owner would show as nobody and lock the container's root out of
// the image's files; for keep-id without subordinate ids the same holds
// one namespace up, and every file is the user's.
func squashOwners(plan userns.Plan) bool {
	switch plan.Mode {
	case userns.Single:
		return true
	case userns.KeepID:
		return !hasRoot(plan.InnerUIDs) || !hasRoot(plan.InnerGIDs)
	}
	return false
}

// containerID is the id host id has in the namespace of maps (0 if none).
func containerID(maps []userns.Mapping, host uint32) uint32 {
	for _, m := range maps {
		if m.HostID <= host && host-m.HostID < m.Size {
			return m.ContainerID + host - m.HostID
		}
	}
	return 0
}

func idRanges(maps []userns.Mapping) []fuseunion.IDRange {
	out := make([]fuseunion.IDRange, len(maps))
	for i, m := range maps {
		out[i] = fuseunion.IDRange{Container: m.ContainerID, Conn: m.HostID, Size: m.Size}
	}
	return out
}

// kill ends a container that failed to start.
func (r *running) kill() {
	unix.Kill(r.child.pid, unix.SIGKILL)
}

// finish waits for the workload, the terminal relay and the union, and
// returns the workload's exit status.
func (r *running) finish() int {
	<-r.child.done
	if r.tty != nil {
		r.tty.wait()
	}
	r.stdio.Wait()
	if r.net != nil {
		r.net.Close()
	}
	if r.srv != nil {
		// The container's mount namespace died with its last process,
		// which aborted the FUSE connection.
		r.srv.Wait()
	}
	return r.child.status
}

// child is the container's first process, seen from the monitor.
type child struct {
	pid    int
	done   chan struct{}
	status int
}

// startChild starts the child in new namespaces. It is started, waited for
// and reaped on one goroutine locked to its OS thread, because the
// child's parent-death signal fires when the thread that forked it ends.
//
// When the maps need no helper, os/exec writes them between the clone and
// the exec, so the child starts straight in stage 2 with its capabilities;
// otherwise it starts in stage 1 and waits for newuidmap and newgidmap.
//
// With a cgroup, the child is cloned straight into it (clone3's
// CLONE_INTO_CGROUP), so that no process of the container ever runs
// outside its limits, and into a cgroup namespace rooted there.
func startChild(cfg Config, sock *os.File) (*child, error) {
	flags := unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC
	if !cfg.hostNetwork() {
		flags |= unix.CLONE_NEWNET
	}
	if cfg.Cgroup != nil {
		flags |= unix.CLONE_NEWCGROUP
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{os.Args[0], RoleChild},
		Env:        []string{},
		ExtraFiles: []*os.File{sock},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: uintptr(flags),
			Pdeathsig:  unix.SIGKILL,
			Setsid:     true,
		},
	}
	if cfg.Cgroup != nil {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cfg.Cgroup.FD()
	}
	if cfg.JoinPID != 0 {
		// Into the other container's user and network namespaces
		// through nsenter and RoleJoin, which clones the child.
		flags &^= unix.CLONE_NEWUSER | unix.CLONE_NEWNET
		cmd.Path = cfg.NsenterPath
		cmd.Args = []string{"nsenter", "--target", strconv.Itoa(cfg.JoinPID), "--user", "--net", "--preserve-credentials", "--",
			cfg.Network.Exe, RoleJoin, strconv.Itoa(os.Getpid()), strconv.Itoa(flags)}
		cmd.SysProcAttr.Cloneflags = 0
	} else if cfg.UserNS.Direct() {
		cmd.Args = append(cmd.Args, stage2)
		cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = cfg.UserNS.SysProcIDMaps()
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
	}
	// Assigned only when set: a nil *os.File in the io.Reader would not
	// be nil. Unset, os/exec gives the child /dev/null.
	if cfg.Stdin != nil {
		cmd.Stdin = cfg.Stdin
	}
	if cfg.Stdout != nil {
		cmd.Stdout = cfg.Stdout
	}
	if cfg.Stderr != nil {
		cmd.Stderr = cfg.Stderr
	}
	c := &child{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with this goroutine, after
		// the child is reaped.
		if err := cmd.Start(); err != nil {
			started <- namespaceError(err)
			return
		}
		c.pid = cmd.Process.Pid
		started <- nil
		err := cmd.Wait()
		c.status = 0
		if ee, ok := err.(*exec.ExitError); ok {
			c.status = exitStatus(unix.WaitStatus(ee.Sys().(syscall.WaitStatus)))
		} else if err != nil {
			c.status = exitNookError
		}
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// namespaceError explains a child that could not be cloned into its new
// namespaces: mostly unprivileged user namespaces switched off.
func namespaceError(err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("create the container's namespaces: %w: unprivileged user namespaces are disabled; enable them (sysctl kernel.unprivileged_userns_clone=1 on Debian, kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu; 'nook info' says which)", err)
	case errors.Is(err, unix.ENOSPC):
		return fmt.Errorf("create the container's namespaces: %w: the limit on user namespaces is reached or zero (sysctl user.max_user_namespaces; 'nook info' shows it)", err)
	}
	return fmt.Errorf("start the container's first process: %w", err)
}

func openLowers(paths []string) ([]fuseunion.Lower, error) {
	// fuseunion wants the topmost layer first.
	lowers := make([]fuseunion.Lower, 0, len(paths))
	for i := len(paths) - 1; i >= 0; i-- {
		l, err := fuseunion.OpenTarLower(paths[i])
		if err != nil {
			closeLowers(lowers)
			return nil, fmt.Errorf("open layer %s: %w", paths[i], err)
		}
		lowers = append(lowers, l)
	}
	return lowers, nil
}

func closeLowers(ls []fuseunion.Lower) {
	for _, l := range ls {
		l.Close()
	}
}
