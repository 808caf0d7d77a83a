package userns

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/internal/nstest"
)

// filterArgs is what the filter role is told.
type filterArgs struct {
	Install bool   // install the filter before the calls
	File    string // a file of the user's, to chown
	I386    bool   // the kernel runs i386 calls (amd64 only)
}

// call is one system call the filter role makes, and its outcome: "0",
// a number the call returned, or the errno's name.
type call struct {
	name string
	do   func() string
}

func errnoResult(r uintptr, e syscall.Errno) string {
	if e != 0 {
		return unix.ErrnoName(e)
	}
	return strconv.FormatUint(uint64(r), 10)
}

// genericCalls work on every GOARCH (no chown or lchown on arm64).
func genericCalls(path string, fd int) []call {
	p, _ := unix.BytePtrFromString(path)
	groups := []uint32{1000}
	raw := func(nr uintptr, a ...uintptr) func() string {
		return func() string {
			a = append(a, 0, 0, 0)
			r, _, e := unix.RawSyscall6(nr, a[0], a[1], a[2], 0, 0, 0)
			return errnoResult(r, e)
		}
	}
	return []call{
		{"fchown", raw(unix.SYS_FCHOWN, uintptr(fd), 1000, 1000)},
		{"fchownat", func() string {
			dirfd := unix.AT_FDCWD
			r, _, e := unix.Syscall6(unix.SYS_FCHOWNAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), 1000, 1000, 0, 0)
			return errnoResult(r, e)
		}},
		{"setuid", raw(unix.SYS_SETUID, 1000)},
		{"setgid", raw(unix.SYS_SETGID, 1000)},
		{"setreuid", raw(unix.SYS_SETREUID, 1000, 1000)},
		{"setregid", raw(unix.SYS_SETREGID, 1000, 1000)},
		{"setresuid", raw(unix.SYS_SETRESUID, 1000, 1000, 1000)},
		{"setresgid", raw(unix.SYS_SETRESGID, 1000, 1000, 1000)},
		{"setgroups", func() string {
			r, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 1, uintptr(unsafe.Pointer(&groups[0])), 0)
			return errnoResult(r, e)
		}},
		// setfsuid cannot fail: it returns the previous fsuid (0 whether
		// faked or refused); fsuid's effect shows in the ids after.
		{"setfsuid", raw(unix.SYS_SETFSUID, 1000)},
		{"setfsgid", raw(unix.SYS_SETFSGID, 1000)},
	}
}

// afterCalls read back what the calls above left behind.
func afterCalls(path string) []call {
	return []call{
		// The calls ran on this locked thread, whose status shows
		// real, effective, saved and filesystem ids.
		{"uids", func() string { return threadStatus("Uid:") }},
		{"gids", func() string { return threadStatus("Gid:") }},
		{"owner", func() string {
			var st unix.Stat_t
			if err := unix.Stat(path, &st); err != nil {
				return err.Error()
			}
			return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
		}},
		{"getgroups", getgroups},
	}
}

// getgroups: the supplementary groups are the host's (shown as 0 when they
// are the user's own gid, as overflow gids otherwise), so the test compares
// them before and after, not with a fixed list.
func getgroups() string {
	g, err := unix.Getgroups()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprint(g)
}

func threadStatus(key string) string {
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return err.Error()
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			return strings.Join(strings.Fields(rest), " ")
		}
	}
	return "no " + key
}

func filterRole(arg string) int {
	// Raw set*id calls change only the calling thread: make them all on
	// one, and read the ids back from it.
	runtime.LockOSThread()
	var a filterArgs
	if err := json.Unmarshal([]byte(arg), &a); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := os.Open(a.File)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	calls := []call{{"getgroups before", getgroups}}
	calls = append(calls, genericCalls(a.File, int(f.Fd()))...)
	calls = append(calls, archCalls(a.File, int(f.Fd()), a.I386)...)
	calls = append(calls, afterCalls(a.File)...)
	if a.Install {
		if err := InstallSingleIDFilter(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	results := map[string]string{}
	for _, c := range calls {
		results[c.name] = c.do()
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		return 1
	}
	return 0
}

// runFilterRole runs the calls in a single-id user namespace, as root
// there with its capabilities, and returns their outcomes.
func runFilterRole(t *testing.T, install, i386 bool) map[string]string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := writeFile(t, "empty", "")
	p, err := NewPlan(Config{Mode: Single, UID: os.Getuid(), GID: os.Getgid(), GetSubIDs: "-", SubUIDFile: empty, SubGIDFile: empty})
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]string
	runGained(t, p, "filter", filterArgs{Install: install, File: file, I386: i386}, &res)
	if res["getgroups"] != res["getgroups before"] {
		t.Errorf("supplementary groups went from %s to %s", res["getgroups before"], res["getgroups"])
	}
	delete(res, "getgroups before")
	delete(res, "getgroups")
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil || st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) {
		t.Errorf("on the host the file is %d:%d (%v), want the test user's", st.Uid, st.Gid, err)
	}
	return res
}

func TestSingleIDFilter(t *testing.T) {
	i386 := probeI386()
	t.Run("installed", func(t *testing.T) {
		res := runFilterRole(t, true, i386 == nil)
		want := map[string]string{"uids": "0 0 0 0", "gids": "0 0 0 0", "owner": "0:0"}
		for _, c := range append(genericCalls("", 0), archCalls("", 0, i386 == nil)...) {
			want[c.name] = "0"
		}
		for k, v := range archFiltered() {
			want[k] = v
		}
		checkResults(t, res, want)
	})
	t.Run("absent", func(t *testing.T) {
		// Without the filter the same calls fail: 1000 is no id in a
		// single-id namespace, and setgroups is denied there.
		res := runFilterRole(t, false, i386 == nil)
		want := map[string]string{"uids": "0 0 0 0", "gids": "0 0 0 0", "owner": "0:0",
			"fchown": "EINVAL", "fchownat": "EINVAL",
			"setuid": "EINVAL", "setgid": "EINVAL", "setreuid": "EINVAL", "setregid": "EINVAL",
			"setresuid": "EINVAL", "setresgid": "EINVAL", "setgroups": "EPERM", "setfsuid": "0", "setfsgid": "0"}
		for k, v := range archUnfiltered(i386 == nil) {
			want[k] = v
		}
		checkResults(t, res, want)
	})
	if i386 != nil {
		t.Run("i386 ABI", func(t *testing.T) {
			nstest.Skip(t, "the kernel runs no i386 calls (IA32_EMULATION), so the filter's i386 part is untested: "+i386.Error())
		})
	}
}

func checkResults(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !matches(g, w) {
			t.Errorf("%s: got %q, want %q", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: got %q, not checked", k, g)
		}
	}
}

// matches compares an outcome with a wanted one: alternatives split by
// "|", and "pid" for any process id (the child's own, which the parent
// does not know).
func matches(got, want string) bool {
	for w := range strings.SplitSeq(want, "|") {
		if n, err := strconv.Atoi(got); w == "pid" && err == nil && n > 1 {
			return true
		}
		if got == w {
			return true
		}
	}
	return false
}

// TestKernelAcceptsEveryProgram installs the program of every GOARCH the
// filter knows: the kernel's verifier checks each one, including those
// this machine cannot run (their arch never matches here, so they allow
// everything).
func TestKernelAcceptsEveryProgram(t *testing.T) {
	c := spawn(t, "accept", false)
	if out, err := c.finish(); err != nil || out != "ok\n" {
		t.Errorf("installing every program: %q, %v", out, err)
	}
}

func acceptRole() int {
	for _, goarch := range []string{"amd64", "386", "arm64", "arm"} {
		prog, err := filterFor(goarch)
		if err == nil {
			err = install(prog)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", goarch, err)
			return 1
		}
	}
	fmt.Println("ok")
	return 0
}
