package userns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// findHelper finds newuidmap or newgidmap: path when given, else in PATH,
// else in /usr/bin and /usr/sbin (cron and batch jobs often run with a
// PATH that lacks sbin). It returns the shortfall that stops SubID when the
// helper is missing or cannot do its job.
func findHelper(path, name string) (string, *shortfall) {
	if path == "" {
		for _, p := range []string{name, "/usr/bin/" + name, "/usr/sbin/" + name} {
			if found, err := exec.LookPath(p); err == nil {
				path = found
				break
			}
		}
	}
	if _, err := os.Stat(path); path == "" || errors.Is(err, fs.ErrNotExist) {
		return "", &shortfall{
			sentinel: ErrNoHelper,
			problem:  notFound(path, name),
			fix:      "to install newuidmap and newgidmap (Debian/Ubuntu: uidmap; Fedora/RHEL: shadow-utils)",
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	if err := checkPrivileged(abs); err != nil {
		return "", &shortfall{sentinel: ErrNoHelper, problem: err.Error(), fix: "to run: chmod u+s " + abs}
	}
	return abs, nil
}

// checkPrivileged reports why the helper could not write maps for ranges:
// it works only setuid root or with file capabilities (some images and
// pip-installed copies have neither), unless the caller is root already.
func checkPrivileged(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", path)
	}
	if os.Geteuid() == 0 {
		return nil
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode()&os.ModeSetuid != 0 && st.Uid == 0 {
		return nil
	}
	if n, err := unix.Getxattr(path, "security.capability", nil); err == nil && n > 0 {
		return nil
	}
	return fmt.Errorf("%s is neither setuid root nor given file capabilities", path)
}

func notFound(path, name string) string {
	if path != "" {
		return name + " is not installed at " + path
	}
	return name + " is not installed (not in PATH, /usr/bin or /usr/sbin)"
}
