package hostcheck

import (
	"os"
	"path/filepath"
)

func sessionSection(cfg Config) Section {
	return lingerSection("/run/systemd/system", "/var/lib/systemd/linger", cfg.User)
}

// lingerSection says whether detached containers survive the user's
// logout: systemd (when it runs, which /run/systemd/system tells) stops a
// user's processes at logout unless lingering is on for them.
func lingerSection(systemdRun, lingerDir, user string) Section {
	b := newSection("session")
	if _, err := os.Stat(systemdRun); err != nil {
		b.info("systemd", "not running")
		b.info("lingering", "not applicable: without systemd nothing stops containers at logout")
		return b.s
	}
	b.info("systemd", "running")
	if _, err := os.Stat(filepath.Join(lingerDir, user)); err == nil {
		b.ok("lingering", "enabled (containers started with -d keep running after you log out)")
	} else {
		b.add(Warning, "lingering", "disabled: at your last logout systemd-logind removes your runtime directory (where nook reaches running containers) and, with KillUserProcesses=yes, stops containers started with -d",
			"loginctl enable-linger "+user)
	}
	return b.s
}
