//go:build vmtest

package smoke

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/nstest"
)

// cgroupRoot is where the unified hierarchy is mounted when it is the only
// one (in the VM, and on systemd hosts without hybrid cgroups).
const cgroupRoot = "/sys/fs/cgroup"

// cgroupOf returns the cgroup v2 path of process pid ("self" for this
// one), as the host sees it, relative to the hierarchy's root.
func cgroupOf(pid string) (string, error) {
	data, err := os.ReadFile(filepath.Join("/proc", pid, "cgroup"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cgroup v2 line in /proc/%s/cgroup: %q", pid, data)
}

// delegatedRoot returns the top of the cgroup subtree this user was given
// (the highest ancestor of its own cgroup that it owns and may move
// processes into), or skips the test when there is none.
func delegatedRoot(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err != nil {
		nstest.Skip(t, fmt.Sprintf("%s is not a unified cgroup v2 hierarchy (hybrid or v1 host): %v", cgroupRoot, err))
	}
	own, err := cgroupOf("self")
	if err != nil {
		nstest.Skip(t, err.Error())
	}
	root := ""
	for dir := filepath.Join(cgroupRoot, own); dir != cgroupRoot; dir = filepath.Dir(dir) {
		if !ownedByMe(dir) || unix.Access(filepath.Join(dir, "cgroup.procs"), unix.W_OK) != nil {
			break
		}
		root = dir
	}
	if root == "" {
		nstest.Skip(t, fmt.Sprintf("this process's cgroup %s is not delegated to uid %d", own, os.Getuid()))
	}
	return root
}

func ownedByMe(path string) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && int(st.Uid) == os.Getuid()
}

// descendants returns the processes below pid, found through each
// process's parent in /proc/PID/stat.
func descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone already
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if f := strings.Fields(string(stat[i+1:])); i > 0 && len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// removeCgroup removes an empty cgroup directory.
func removeCgroup(dir string) error {
	err := os.Remove(dir)
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	return err
}
