package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fuseMagic is f_type of a FUSE mount in statfs.
const fuseMagic = 0x65735546

// fuseServer mounts with a fuse-overlayfs-style command (fuse-overlayfs
// itself, or nook-overlayfs): without -f it returns once the mount is live
// and leaves a daemon serving it, which is the moment to start measuring.
func fuseServer(bin string) func(lowers []string, upper, work, mnt string) (int, error) {
	return func(lowers []string, upper, work, mnt string) (int, error) {
		// The daemon may keep its output open after the command exits; a
		// file, unlike a pipe, does not make Wait wait for it.
		logPath := filepath.Join(filepath.Dir(mnt), filepath.Base(bin)+".log")
		log, err := os.Create(logPath)
		if err != nil {
			return 0, err
		}
		cmd := exec.Command(bin, "-o", overlayOptions(lowers, upper, work), mnt)
		cmd.Stdout, cmd.Stderr = log, log
		err = cmd.Run()
		log.Close()
		if err != nil {
			out, _ := os.ReadFile(logPath)
			return 0, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(string(out)))
		}
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err != nil {
			return 0, fmt.Errorf("statfs %s after %s: %w", mnt, bin, err)
		}
		if st.Type != fuseMagic {
			return 0, fmt.Errorf("%s exited 0 but %s is not a FUSE mount (f_type %#x)", bin, mnt, st.Type)
		}
		pid, err := serverPid(mnt)
		if err != nil {
			return 0, fmt.Errorf("find the %s daemon: %w", filepath.Base(bin), err)
		}
		return pid, nil
	}
}

// serverPid finds the daemon serving mnt: the process whose command line
// names it. Each mount point is used once, so there is exactly one.
func serverPid(mnt string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if err != nil {
			continue // exited meanwhile, or not ours to read
		}
		for _, arg := range bytes.Split(b, []byte{0}) {
			if string(arg) == mnt {
				return pid, nil
			}
		}
	}
	return 0, errors.New("no process has the mount point on its command line")
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
