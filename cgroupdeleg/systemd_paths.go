package cgroupdeleg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// isUnit reports whether a cgroup's name is a systemd unit's: systemd
// names every cgroup it makes after its unit.
func isUnit(name string) bool {
	return strings.HasSuffix(name, ".slice") || strings.HasSuffix(name, ".scope") || strings.HasSuffix(name, ".service")
}

// delegateMarked reports whether systemd marked the cgroup in dir as
// delegated: it sets the trusted.delegate xattr on the cgroups of units
// with Delegate=yes, and since systemd 253 user.delegate too. Only root
// can read trusted.*, so for a user under systemd 252 (Debian 12) a
// delegated unit is unmarked: nook then knows it only when it made the
// scope itself (Options.InScope), as make vmtest's systemd VM shows.
func delegateMarked(dir string) bool {
	for _, name := range []string{"user.delegate", "trusted.delegate"} {
		buf := make([]byte, 8)
		n, err := unix.Getxattr(dir, name, buf)
		if err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

// userManagerUnit is the unit of the systemd user manager of uid:
// user@UID.service, whose cgroup holds the user's own units.
func userManagerUnit(uid int) string { return fmt.Sprintf("user@%d.service", uid) }

// inUserManager reports whether cgroup path p is in the user manager's
// tree.
func inUserManager(p string, uid int) bool {
	return strings.Contains(p+"/", "/"+userManagerUnit(uid)+"/")
}

// userManagerSocket is the private socket of the user's systemd manager,
// which systemd-run --user talks to when there is no session bus; it
// exists only while the manager runs.
func userManagerSocket(uid int) string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = fmt.Sprintf("/run/user/%d", uid)
	}
	return filepath.Join(dir, "systemd", "private")
}

// userManagerRuns reports whether the user's systemd manager is there to
// make a delegated scope.
func userManagerRuns(uid int) bool {
	st, err := os.Stat(userManagerSocket(uid))
	return err == nil && st.Mode()&os.ModeSocket != 0
}
