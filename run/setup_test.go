package run

import (
	"os/exec"

	"fmt"
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/userns"
)

// inside runs a shell script in a busybox container and returns its
// output, failing the test if the container did not exit 0.
func inside(t *testing.T, mode userns.Mode, edit func(*Config), script string) string {
	t.Helper()
	layers := testImage(t, imagetest.ManyOwners(t))
	r := runIn(t, layers, mode, edit, "sh", "-c", script)
	if r.err != nil || r.code != 0 {
		t.Fatalf("container: status %d, error %v, stderr %q, stdout %q", r.code, r.err, r.stderr, r.stdout)
	}
	return r.stdout
}

func TestOnlyOwnProcesses(t *testing.T) {
	out := inside(t, userns.Auto, nil, "cd /proc && echo [0-9]*")
	if out != "1\n" {
		t.Errorf("processes %q visible, want only the container's shell", out)
	}
}

func TestDev(t *testing.T) {
	out := inside(t, userns.Auto, nil, `
		for d in null zero full random urandom tty; do test -c /dev/$d || echo "no /dev/$d"; done
		test -L /dev/ptmx && test -c /dev/pts/ptmx || echo "no ptmx"
		test -d /dev/shm && test -d /dev/mqueue || echo "no shm or mqueue"
		test "$(readlink /dev/fd)" = /proc/self/fd || echo "no /dev/fd"
		echo x > /dev/null && head -c 4 /dev/zero | wc -c
		grep -c . /proc/mounts >/dev/null
		ls /dev | wc -l`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != "4" || len(lines) != 2 {
		t.Errorf("unexpected /dev:\n%s", out)
	}
}

func TestMasksAndReadOnlyPaths(t *testing.T) {
	out := inside(t, userns.Auto, nil, `
		test -s /proc/kcore && echo "kcore readable"
		cat /proc/keys 2>/dev/null | grep -q . && echo "keys readable"
		echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo "proc/sys writable"
		touch /sys/x 2>/dev/null && echo "sys writable"
		echo ok`)
	if out != "ok\n" {
		t.Errorf("masks:\n%s", out)
	}
}

func TestCapabilitiesAndNoNewPrivs(t *testing.T) {
	out := inside(t, userns.Auto, nil, `grep -E '^(CapEff|CapBnd|CapInh|CapAmb|NoNewPrivs)' /proc/self/status`)
	want := map[string]string{
		// Docker's default set: chown dac_override fowner fsetid kill
		// setgid setuid setpcap net_bind_service net_raw sys_chroot
		// mknod audit_write setfcap.
		"CapEff":     "00000000a80425fb",
		"CapBnd":     "00000000a80425fb",
		"CapInh":     "0000000000000000",
		"CapAmb":     "0000000000000000",
		"NoNewPrivs": "1",
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if w := want[k]; strings.TrimSpace(v) != w {
			t.Errorf("%s = %s, want %s", k, strings.TrimSpace(v), w)
		}
	}
}

func TestOwnersShown(t *testing.T) {
	if !hasSubIDs(t) {
		nstest.Skip(t, "images with many owners need a subordinate id range for this user")
	}
	out := inside(t, userns.SubID, nil, fmt.Sprintf(`stat -c '%%n %%u:%%g %%A %%t:%%T' %s %s %s %s %s; test -e %s || echo whited-out gone`,
		imagetest.OwnersRootFile, imagetest.OwnersUserFile, imagetest.OwnersUserDir, imagetest.OwnersSetuid, imagetest.OwnersDevice, imagetest.OwnersWhitedOut))
	want := strings.Join([]string{
		imagetest.OwnersRootFile + " 0:0 -rw-r--r-- 0:0",
		imagetest.OwnersUserFile + " 1000:1000 -rw-r----- 0:0",
		imagetest.OwnersUserDir + " 1000:1000 drwxr-x--- 0:0",
		imagetest.OwnersSetuid + " 0:0 -rwsr-xr-x 0:0",
		imagetest.OwnersDevice + " 0:0 crw-rw-rw- 1:3",
		"whited-out gone",
	}, "\n") + "\n"
	if out != want {
		t.Errorf("owners inside:\n%s\nwant:\n%s", out, want)
	}
}

func TestUserSwitch(t *testing.T) {
	out := inside(t, userns.Auto, func(c *Config) { c.Process.User = "user" }, `id -u; id -g; echo $HOME; grep CapEff /proc/self/status`)
	if want := "1000\n1000\n/home/user\nCapEff:\t0000000000000000\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestVolumes(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "in"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	out := inside(t, userns.Auto, func(c *Config) {
		c.Mounts = []Mount{
			{Type: "bind", Source: host, Target: "/data"},
			{Type: "bind", Source: ro, Target: "/ro", ReadOnly: true},
			{Type: "tmpfs", Target: "/scratch", Data: "size=1m"},
		}
	}, `cat /data/in; echo out > /data/out; touch /ro/x 2>/dev/null && echo "ro writable"; grep ' /scratch ' /proc/mounts | cut -d' ' -f3`)
	if out != "from host\ntmpfs\n" {
		t.Errorf("got %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(host, "out")); err != nil || string(b) != "out\n" {
		t.Errorf("write through the volume: %q, %v", b, err)
	}
}

func TestReadOnlyRoot(t *testing.T) {
	out := inside(t, userns.Auto, func(c *Config) { c.ReadOnly = true }, `touch /x 2>/dev/null && echo writable; touch /dev/shm/x && echo shm ok`)
	if out != "shm ok\n" {
		t.Errorf("got %q", out)
	}
}

func TestSingleIDChown(t *testing.T) {
	out := inside(t, userns.Single, nil, `
		cat /proc/self/uid_map | awk '{print $1, $3}'
		touch /f && chown 1000:1000 /f && echo chown ok
		ls -ln /home/user -d | awk '{print $3":"$4}'`)
	if out != "0 1\nchown ok\n0:0\n" {
		t.Errorf("got %q", out)
	}
}

func TestInitReaps(t *testing.T) {
	// The orphan becomes init's child when the shell execs true and ends;
	// init reaps it when its SIGCHLD comes, so the check waits (bounded)
	// for the pid to go. Without reaping it stays a zombie for ever.
	out := inside(t, userns.Auto, func(c *Config) { c.Process.Init = true }, `
		sh -c 'sleep 0 & echo $! >/tmp/orphan; exec true'
		cat /proc/1/cmdline | tr '\0' ' ' | cut -d' ' -f2
		pid=$(cat /tmp/orphan); i=0
		while [ -e /proc/$pid ] && [ $i -lt 500 ]; do usleep 10000; i=$((i+1)); done
		if [ -e /proc/$pid ]; then echo "zombie: $(cat /proc/$pid/stat)"; else echo reaped; fi`)
	if out != RoleChild+"\nreaped\n" {
		t.Errorf("got %q", out)
	}
}

func TestKeepID(t *testing.T) {
	vol := t.TempDir()
	out := inside(t, userns.KeepID, func(c *Config) {
		c.Mounts = []Mount{{Type: "bind", Source: vol, Target: "/vol"}}
	}, `id -u; id -g; touch /vol/mine /mine; ls -ln /vol/mine /mine /home/user -d | awk '{print $3":"$4}'; stat -c %u:%g /bin/busybox`)
	uid, gid := os.Getuid(), os.Getgid()
	ids := fmt.Sprintf("%d:%d", uid, gid)
	// ls sorts its arguments: /home/user, /mine, /vol/mine.
	if want := fmt.Sprintf("%d\n%d\n1000:1000\n%s\n%s\n0:0\n", uid, gid, ids, ids); out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(vol, "mine"), &st); err != nil || int(st.Uid) != uid {
		t.Errorf("file written to the volume: uid %d, %v; want the user's %d", st.Uid, err, uid)
	}
}

// TestKeepIDWithoutRanges: keep-id for a user without subordinate ids
// (a cluster's usual case) maps only the user, so every file of the image
// is presented as theirs: the container is built and the workload runs
// as the user, writing to its root and its volumes.
func TestKeepIDWithoutRanges(t *testing.T) {
	vol := t.TempDir()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := userns.NewPlan(userns.Config{Mode: userns.KeepID, UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-", SubUIDFile: empty, SubGIDFile: empty})
	if err != nil {
		t.Fatal(err)
	}
	out := inside(t, userns.KeepID, func(c *Config) {
		c.UserNS = plan
		c.Mounts = []Mount{{Type: "bind", Source: vol, Target: "/vol"}}
	}, `id -u; id -g; touch /vol/mine /mine; ls -ln /vol/mine /mine /home/user -d | awk '{print $3":"$4}'; stat -c %u:%g /bin/busybox; cat /etc/hostname`)
	ids := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	// ls sorts its arguments: /home/user, /mine, /vol/mine.
	if want := fmt.Sprintf("%d\n%d\n%s\n%s\n%s\n%s\nbox\n", os.Getuid(), os.Getgid(), ids, ids, ids, ids); out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(vol, "mine"), &st); err != nil || int(st.Uid) != os.Getuid() {
		t.Errorf("file written to the volume: uid %d, %v; want the user's %d", st.Uid, err, os.Getuid())
	}
}

// TestHostRlimits: the container has the host's limits (Go raises its own
// soft RLIMIT_NOFILE at start; the workload must get the original back).
func TestHostRlimits(t *testing.T) {
	var nproc unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &nproc); err != nil {
		t.Fatal(err)
	}
	// The test binary's own soft NOFILE was raised by the Go runtime; the
	// limit the shell gave it is what a plain exec restores.
	out, err := exec.Command("sh", "-c", "ulimit -n").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := inside(t, userns.Auto, nil, "ulimit -n; ulimit -u")
	want := strings.TrimSpace(string(out)) + "\n" + limitText(nproc.Cur) + "\n"
	if got != want {
		t.Errorf("limits inside %q, want %q", got, want)
	}
}

func limitText(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return fmt.Sprint(v)
}
