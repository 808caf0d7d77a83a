package usertest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A script's processes are found in /proc, because nook's container
// processes are not the script's children once their monitor is gone, and
// scripts run in parallel. A process belongs to the script whose $WORK is
// work when one of these says so:
//
//   - its environment has WORK=work: every command the script ran, and
//     nook's monitor (testscript gives each command the script's
//     environment);
//   - its working directory is in work: the container's first process
//     before it pivots into the container (nook starts it with an empty
//     environment, in the monitor's directory);
//   - its mount table holds a bind mount of something in work: the
//     container's processes, whose /etc/hostname, /etc/hosts and
//     /etc/resolv.conf come from the runtime directory $WORK/.run/nook/ID.
//
// Reading another process's environment and working directory needs
// ptrace access, which the user has over the container's processes too:
// their user namespace is the user's.

// proc is one process of a script.
type proc struct {
	pid int
	// cmd is its command line with argv[0] cut to its base name, the
	// arguments separated by spaces: "nook run --rm busybox true".
	cmd string
}

func (p proc) String() string { return fmt.Sprintf("process %d: %s", p.pid, p.cmd) }

// detail is p with its state and parent, from /proc/PID/stat, for
// failure messages: "process 12 (S, parent 1): sleep 1000".
func (p proc) detail() string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return p.String() + " (gone)"
	}
	// "12 (sleep) S 1 ...": the command name may hold spaces and parens.
	_, rest, _ := strings.Cut(string(b)[strings.LastIndexByte(string(b), ')'):], " ")
	f := strings.Fields(rest)
	if len(f) < 2 {
		return p.String()
	}
	return fmt.Sprintf("process %d (%s, parent %s): %s", p.pid, f[0], f[1], p.cmd)
}

// scriptProcs lists the processes of the script whose $WORK is work,
// except the test binary itself. Zombies have no command line and are
// left out: their parent still has to reap them, and they hold nothing.
func scriptProcs(work string) ([]proc, error) {
	work, err := filepath.EvalSymlinks(work)
	if err != nil {
		return nil, fmt.Errorf("resolve $WORK: %w", err)
	}
	onFS, err := pathInFilesystem(work)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	type candidate struct {
		cmd  string
		ppid int
	}
	all := make(map[int]candidate)
	mine := make(map[int]bool)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue // gone, a zombie or a kernel thread
		}
		all[pid] = candidate{cmd: commandLine(cmdline), ppid: parentPID(pid)}
		mine[pid] = belongs(pid, work, onFS)
	}
	// Children of the script's processes are the script's too: the
	// network drivers, which make themselves undumpable (their
	// environment and directory unreadable) and leave for namespaces of
	// their own. Parents come before children only by chance, so repeat
	// until nothing changes.
	for changed := true; changed; {
		changed = false
		for pid, c := range all {
			if !mine[pid] && mine[c.ppid] {
				mine[pid], changed = true, true
			}
		}
	}
	var out []proc
	for pid, c := range all {
		if mine[pid] {
			out = append(out, proc{pid: pid, cmd: c.cmd})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pid < out[j].pid })
	return out, nil
}

// parentPID is pid's parent from /proc/PID/stat (0 if unreadable).
func parentPID(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
	rest := b[bytes.LastIndexByte(b, ')')+1:]
	f := strings.Fields(string(rest))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// belongs reports whether process pid is one of the script's (see above).
func belongs(pid int, work, onFS string) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	if env, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
		if bytes.Contains(append([]byte{0}, env...), []byte("\x00WORK="+work+"\x00")) {
			return true
		}
	}
	if cwd, err := os.Readlink(filepath.Join(dir, "cwd")); err == nil && within(cwd, work) {
		return true
	}
	mi, err := os.ReadFile(filepath.Join(dir, "mountinfo"))
	if err != nil {
		return false
	}
	needle := mountinfoEscape(onFS)
	sc := bufio.NewScanner(bytes.NewReader(mi))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// "98 85 254:0 /tmp/x/work/.run/nook/ID/hosts /etc/hosts rw - ext4 /dev/vda rw"
		f := strings.Fields(sc.Text())
		if len(f) > 4 && within(f[3], needle) {
			return true
		}
	}
	return false
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// commandLine turns /proc/PID/cmdline into "base(argv0) arg1 arg2".
func commandLine(cmdline []byte) string {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	args[0] = filepath.Base(args[0])
	return strings.Join(args, " ")
}

// pathInFilesystem is where dir is inside the filesystem that holds it: the
// form mountinfo's root field gives a bind mount's source in. It is dir
// itself when dir's mount shows its filesystem from the top.
func pathInFilesystem(dir string) (string, error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("read mount table: %w", err)
	}
	best, root := "", ""
	sc := bufio.NewScanner(bytes.NewReader(mi))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		point := mountinfoUnescape(f[4])
		// The last of equal mount points is the one on top.
		if (point == "/" || within(dir, point)) && len(point) >= len(best) {
			best, root = point, mountinfoUnescape(f[3])
		}
	}
	if best == "" {
		return "", errors.New("no mount holds " + dir)
	}
	rel := strings.TrimPrefix(dir, best)
	return filepath.Join(root, rel), nil
}

// The kernel escapes space, tab, newline and backslash in mountinfo paths
// as octal.
var (
	mountinfoEscaper   = strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`)
	mountinfoUnescaper = strings.NewReplacer(`\134`, `\`, `\040`, " ", `\011`, "\t", `\012`, "\n")
)

func mountinfoEscape(p string) string   { return mountinfoEscaper.Replace(p) }
func mountinfoUnescape(p string) string { return mountinfoUnescaper.Replace(p) }
