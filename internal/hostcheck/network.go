package hostcheck

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// versionTimeout bounds `HELPER --version`: a helper that hangs must not
// hang nook info.
const versionTimeout = 5 * time.Second

func networkSection(ctx context.Context) Section {
	b := newSection("network")
	pasta, pastaErr := exec.LookPath("pasta")
	slirp, slirpErr := exec.LookPath("slirp4netns")
	helper := func(key, path string, err error, other bool, install string) {
		switch {
		case err == nil:
			b.ok(key, path+" ("+version(ctx, path)+")")
		case other:
			b.info(key, "not installed")
		default:
			b.add(Warning, key, "not installed (without pasta or slirp4netns only --network none and host work)", install)
		}
	}
	helper("pasta", pasta, pastaErr, slirpErr == nil, "install passt (Debian/Ubuntu: sudo apt install passt; Fedora/RHEL: sudo dnf install passt)")
	helper("slirp4netns", slirp, slirpErr, pastaErr == nil, "install slirp4netns (Debian/Ubuntu: sudo apt install slirp4netns)")
	var st unix.Stat_t
	if err := unix.Stat("/dev/net/tun", &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		b.add(Warning, "/dev/net/tun", "missing (pasta and slirp4netns need it in the container's network namespace)", "sudo modprobe tun")
	} else {
		b.ok("/dev/net/tun", "present")
	}
	return b.s
}

// version returns the first line of `path --version`.
func version(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "version unknown: " + err.Error()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(line)
}
