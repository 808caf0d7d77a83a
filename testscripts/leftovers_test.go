package testscripts

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/mountinfo"
)

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
	ms, err := mountinfo.Read()
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if strings.HasPrefix(m.Point, work+"/") {
			mountPoints = append(mountPoints, m.Point)
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
