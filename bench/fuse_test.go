package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// fuseMagic is f_type of a FUSE mount in statfs.
const fuseMagic = 0x65735546

// mountWait bounds how long a FUSE server may take to mount, and to exit
// after its unmount.
const mountWait = 60_000 // ms

// recheck is how often a mount point is looked at again when no mountinfo
// event came.
const recheck = 20 // ms

// fuseServer mounts with a fuse-overlayfs-style command (fuse-overlayfs
// itself, or nook-overlayfs) run in the foreground (-f) as a child of this
// process with PDEATHSIG: a benchmark that is killed takes its servers
// with it, where a daemon would keep the mount namespace, and its mounts,
// alive. The command is ready when its mount shows up: the kernel signals
// changes of /proc/self/mountinfo with POLLPRI, but on this kernel (6.18)
// about one mount in 300 raised no event, so the mount point is also
// re-checked every recheck ms.
func fuseServer(bin string) mountFunc {
	return func(lowers []string, upper, work, mnt string) (*exec.Cmd, error) {
		// Opened before the server starts, so its mount is a change
		// this descriptor sees.
		mi, err := os.Open("/proc/self/mountinfo")
		if err != nil {
			return nil, err
		}
		defer mi.Close()
		logPath := filepath.Join(filepath.Dir(mnt), filepath.Base(bin)+".log")
		log, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		defer log.Close()
		cmd := exec.Command(bin, "-f", "-o", overlayOptions(lowers, upper, work), mnt)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		failed := func(err error) (*exec.Cmd, error) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(string(out)))
		}
		pidfd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
		if err != nil {
			return failed(fmt.Errorf("pidfd_open: %w", err))
		}
		defer unix.Close(pidfd)
		fds := []unix.PollFd{
			{Fd: int32(mi.Fd()), Events: unix.POLLPRI},
			{Fd: int32(pidfd), Events: unix.POLLIN},
		}
		deadline := time.Now().Add(mountWait * time.Millisecond)
		for {
			var st unix.Statfs_t
			if err := unix.Statfs(mnt, &st); err != nil {
				return failed(fmt.Errorf("statfs %s: %w", mnt, err))
			}
			if st.Type == fuseMagic {
				return cmd, nil
			}
			_, err := unix.Poll(fds, recheck)
			switch {
			case errors.Is(err, unix.EINTR):
			case err != nil:
				return failed(fmt.Errorf("wait for the mount: %w", err))
			case fds[1].Revents != 0:
				return failed(errors.New("exited before mounting"))
			case time.Now().After(deadline):
				// A Go server (nook-overlayfs) prints every
				// goroutine's stack on SIGQUIT: the log then
				// says where it is stuck.
				_ = unix.PidfdSendSignal(pidfd, unix.SIGQUIT, nil, 0)
				_, _ = unix.Poll(fds[1:], 5_000)
				return failed(fmt.Errorf("not mounted after %d ms", mountWait))
			}
		}
	}
}

// peakRSS returns the high-water mark of pid's resident set (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmHWM of %d: %q: %w", pid, l, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
