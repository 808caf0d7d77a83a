package testscripts

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mount is one line of /proc/self/mountinfo.
type mount struct {
	point, fstype, source, options string
}

// mounts lists this mount namespace's mounts, in mount order.
func mounts() ([]mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	var ms []mount
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		// "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
		pre, post, ok := strings.Cut(s.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 2 {
			continue
		}
		ms = append(ms, mount{point: unescapeOctal(f[4]), options: f[5], fstype: g[0], source: unescapeOctal(g[1])})
	}
	return ms, s.Err()
}

// mountAt returns the topmost mount at dir.
func mountAt(dir string) (mount, bool, error) {
	ms, err := mounts()
	if err != nil {
		return mount{}, false, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].point == dir {
			return ms[i], true, nil
		}
	}
	return mount{}, false, nil
}

// unescapeOctal undoes the kernel's \NNN escapes in mountinfo.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// daemons returns the pids of nook-overlayfs processes started by the
// script whose $WORK is work: the script's environment, which they all
// inherit (even through mount(8) and mount.fuse3), says so.
func daemons(work string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	mark := []byte("WORK=" + work + "\x00")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone, or not ours
		}
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		if filepath.Base(string(argv0)) != "nook-overlayfs" {
			continue
		}
		environ, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, environ...), append([]byte{0}, mark...)) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// leftovers lists the mounts under work and the nook-overlayfs processes
// of work's script.
func leftovers(work string) (mountPoints []string, pids []int, err error) {
	ms, err := mounts()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if strings.HasPrefix(m.point, work+"/") {
			mountPoints = append(mountPoints, m.point)
		}
	}
	return mountPoints, daemons(work), nil
}

// describeLeftovers says what is left, one item a string.
func describeLeftovers(work string) ([]string, error) {
	mps, pids, err := leftovers(work)
	if err != nil {
		return nil, err
	}
	var left []string
	for _, mp := range mps {
		left = append(left, "mount "+mp)
	}
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		left = append(left, fmt.Sprintf("process %d: %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
	}
	return left, nil
}

// cleanLeftovers kills what work's script left running and unmounts what it
// left mounted (servers first, so no unmount waits on a dead server), and
// returns what it found.
func cleanLeftovers(work string) []string {
	left, err := describeLeftovers(work)
	if err != nil {
		return []string{err.Error()}
	}
	mps, pids, _ := leftovers(work)
	for _, pid := range pids {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	// Deepest first, so that a mount inside another goes before it.
	sort.Slice(mps, func(i, j int) bool { return len(mps[i]) > len(mps[j]) })
	for _, mp := range mps {
		_ = unix.Unmount(mp, unix.MNT_DETACH)
	}
	return left
}
