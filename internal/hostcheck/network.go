package hostcheck

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/network"
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
	if pastaErr == nil {
		switch old, err := network.PastaSupport(pasta); {
		case err != nil:
			b.add(Warning, "pasta support", err.Error(), "install a newer passt, or use slirp4netns")
		case old:
			b.info("pasta support", "older than passt 2024_08_21: answers to UDP from the host's loopback are lost, so nook forwards published UDP ports itself and prefers slirp4netns")
		default:
			b.ok("pasta support", "current")
		}
	}
	helper("slirp4netns", slirp, slirpErr, pastaErr == nil, "install slirp4netns (Debian/Ubuntu: sudo apt install slirp4netns)")
	for _, tool := range []string{"nsenter", "ip"} {
		if p, err := exec.LookPath(tool); err == nil {
			b.ok(tool, p)
		} else if slirpErr == nil {
			b.add(Warning, tool, "not installed (slirp4netns networks, published ports and --network container: need it)", "install util-linux and iproute2 (sudo apt install util-linux iproute2)")
		}
	}
	b.info("default network", network.DefaultMode().String())
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
