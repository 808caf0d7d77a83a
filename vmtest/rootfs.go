package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The systemd flavour boots a Debian root filesystem made by mmdebstrap:
// minbase, systemd as init, the system and session buses, logind (which
// starts user@1000.service for a lingering user), newuidmap/newgidmap and
// busybox for the first stage of /init.
var rootfsPackages = []string{
	"systemd", "systemd-sysv", "dbus", "dbus-user-session", "libpam-systemd",
	"uidmap", "busybox-static",
}

// rootfsHooks run in the new root filesystem (mmdebstrap's
// --customize-hook, as root in its user namespace; "$1" is the root):
//   - the user, uid 1000, with a subordinate id range and lingering, so
//     that logind starts user@1000.service (Delegate=yes) at boot;
//   - a machine id: without one, systemd takes the boot for a first boot
//     and systemd-firstboot asks questions on the console;
//   - no getty: nobody logs in, and its prompt would clutter the console.
var rootfsHooks = []string{
	`chroot "$1" useradd -m -u 1000 -U -s /bin/sh -c "vmtest user" user`,
	`echo user:100000:65536 >"$1/etc/subuid"; echo user:100000:65536 >"$1/etc/subgid"`,
	`mkdir -p "$1/var/lib/systemd/linger" && touch "$1/var/lib/systemd/linger/user"`,
	`echo 6e6f6f6b766d746573746d616368696e >"$1/etc/machine-id"`,
	`echo vmtest >"$1/etc/hostname"`,
	`for u in systemd-firstboot.service getty.target serial-getty@.service getty@.service; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done`,
}

// rootfsExclude keeps what nothing in the VM reads out of the image (it
// lives in the VM's memory twice).
var rootfsExclude = []string{"/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*"}

// rootfsTimeout bounds mmdebstrap (about a minute here).
const rootfsTimeout = 15 * time.Minute

// mmdebstrapArgs is the command line that writes the root filesystem to
// out as a tar, as this (unprivileged) user: --mode=unshare maps root to
// the user's subordinate ids, and the tar records the real owners.
func mmdebstrapArgs(suite, out string) []string {
	args := []string{"--mode=unshare", "--format=tar", "--variant=minbase", "--include=" + strings.Join(rootfsPackages, ",")}
	for _, e := range rootfsExclude {
		args = append(args, "--dpkgopt=path-exclude="+e)
	}
	for _, h := range rootfsHooks {
		args = append(args, "--customize-hook="+h)
	}
	return append(args, suite, out)
}

// prepareRootfs returns the cached root filesystem tar for this host's
// Debian release, making it first if needed. Its name is a hash of the
// command line, so a change to the packages or hooks makes a new one.
func prepareRootfs(ctx context.Context, cache string) (string, error) {
	suite, err := debianSuite()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.Join(mmdebstrapArgs(suite, ""), "\x00")))
	file := filepath.Join(cache, "rootfs", suite+"-systemd-"+hex.EncodeToString(sum[:6])+".tar")
	if st, err := os.Stat(file); err == nil && st.Mode().IsRegular() {
		return file, nil
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "", fmt.Errorf("the systemd VM's root filesystem needs mmdebstrap: sudo apt-get install mmdebstrap uidmap")
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", fmt.Errorf("make the root filesystem's cache directory: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", file, os.Getpid())
	// --format=tar: mmdebstrap would take the name for a directory.
	defer os.Remove(tmp)
	notice("making the systemd VM's root filesystem with mmdebstrap (%s; about a minute, once)", suite)
	ctx, cancel := context.WithTimeout(ctx, rootfsTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "mmdebstrap", mmdebstrapArgs(suite, tmp)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mmdebstrap %s (it needs a subordinate id range in /etc/subuid and apt's mirror): %w\n%s", suite, err, tailLines(string(out), 20))
	}
	if err := os.Rename(tmp, file); err != nil {
		return "", fmt.Errorf("keep the root filesystem: %w", err)
	}
	return file, nil
}

// debianSuite is this host's Debian release (VERSION_CODENAME): the VM's
// packages come from the same release as the kernel apt names.
func debianSuite() (string, error) {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "", fmt.Errorf("find this host's Debian release: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VERSION_CODENAME="); ok && strings.Trim(v, `"`) != "" {
			return strings.Trim(v, `"`), nil
		}
	}
	return "", fmt.Errorf("find this host's Debian release: no VERSION_CODENAME in /etc/os-release")
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
