package run

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/userns"
)

// Exit statuses of a workload that could not start, as Docker has them.
const (
	exitNotExecutable = 126
	exitNotFound      = 127
	exitNookError     = 125
)

// defaultPath is the PATH of a container whose image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// execWorkload becomes the workload: it takes the pty, switches to the
// workload's user, limits capabilities and execs. It returns only on
// failure, with the exit status that failure should give.
func execWorkload(ch channel, spec *childSpec) (int, error) {
	p := spec.Process
	if p.Tty {
		if err := takeTerminal(ch, p.Rows, p.Cols); err != nil {
			return exitNookError, err
		}
	}
	id, err := resolveUser(p.User)
	if err != nil {
		return exitNookError, err
	}
	if spec.SingleID {
		// Only root is mapped: another id cannot be taken, and the
		// filter below makes the workload's own attempts succeed
		// without effect, so the workload runs as root throughout.
		id.UID, id.GID, id.Groups = 0, 0, []uint32{0}
	}
	env := withDefaults(p.Env, id.Home, spec.Hostname, p.Tty)
	if spec.SingleID {
		kv, err := singleIDAptConfig(env)
		if err != nil {
			return exitNookError, err
		}
		if kv != "" {
			env = append(env, kv)
		}
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := limitCapabilities(); err != nil {
		return exitNookError, err
	}
	inProcess := p.Init || spec.Nested != nil
	if !inProcess {
		if err := switchUser(id); err != nil {
			return exitNookError, err
		}
		if err := unix.Chdir(cwd); err != nil {
			return exitNookError, fmt.Errorf("enter working directory %s: %w", cwd, err)
		}
	}
	if len(p.Args) == 0 {
		return exitNookError, errors.New("no command: the image has no Cmd or Entrypoint; give one after the image name")
	}
	exe, code, err := lookPath(p.Args[0], env)
	if err != nil {
		return code, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return exitNookError, fmt.Errorf("set no_new_privs: %w", err)
	}
	if spec.SingleID {
		if err := userns.InstallSingleIDFilter(); err != nil {
			return exitNookError, err
		}
	}
	// The user switch cleared the parent-death signal.
	if err := armParentDeath(ch); err != nil {
		return exitNookError, err
	}
	// Last, so that nook's own threads before the exec need not fit.
	if err := setRlimits(p.Rlimits); err != nil {
		return exitNookError, err
	}
	if inProcess {
		return runInit(ch, exe, p.Args, env, cwd, id, p.Tty, spec.Nested)
	}
	if spec.Announce {
		// nsenter, our parent for nook exec, keeps the socket open: the
		// monitor cannot wait for it to close on exec.
		if err := ch.send(message{Type: msgStarting}, -1); err != nil {
			return exitNookError, err
		}
	}
	err = unix.Exec(exe, p.Args, env)
	return execFailure(p.Args[0], err)
}

// execFailure maps a failed exec to Docker's message and exit status. err
// may come wrapped (os.StartProcess's "fork/exec PATH: ..."): the message
// names only the command and the system's reason, as for a plain exec.
func execFailure(name string, err error) (int, error) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	switch {
	case errors.Is(err, unix.ENOENT):
		return exitNotFound, fmt.Errorf("exec %q: no such file or directory", name)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.ENOEXEC), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EPERM):
		return exitNotExecutable, fmt.Errorf("exec %q: %w", name, err)
	}
	return exitNookError, fmt.Errorf("exec %q: %w", name, err)
}

// lookPath finds name in the container's PATH as the shell would.
func lookPath(name string, env []string) (string, int, error) {
	if strings.Contains(name, "/") {
		return name, 0, nil
	}
	pathVar := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	denied := ""
	for _, dir := range strings.Split(pathVar, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, name)
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFDIR {
			continue
		}
		if unix.Access(p, unix.X_OK) == nil {
			return p, 0, nil
		}
		if denied == "" {
			denied = p
		}
	}
	if denied != "" {
		return "", exitNotExecutable, fmt.Errorf("exec %q: permission denied", denied)
	}
	return "", exitNotFound, fmt.Errorf("exec %q: executable file not found in $PATH", name)
}

// withDefaults adds what Docker puts in every container's environment
// when the image and the user did not set it.
func withDefaults(env []string, home, hostname string, tty bool) []string {
	has := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		has[k] = true
	}
	out := append([]string(nil), env...)
	add := func(k, v string) {
		if !has[k] {
			out = append(out, k+"="+v)
		}
	}
	add("PATH", defaultPath)
	add("HOSTNAME", hostname)
	add("HOME", home)
	if tty {
		add("TERM", "xterm")
	}
	return out
}

// switchUser sets the workload's groups and ids (for every thread: Go's
// syscall package does that).
func switchUser(id identity) error {
	groups := make([]int, len(id.Groups))
	for i, g := range id.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("set supplementary groups %v: %w", id.Groups, err)
	}
	if err := syscall.Setgid(int(id.GID)); err != nil {
		return fmt.Errorf("set group id %d: %w (is it mapped in the user namespace?)", id.GID, err)
	}
	if err := syscall.Setuid(int(id.UID)); err != nil {
		return fmt.Errorf("set user id %d: %w (is it mapped in the user namespace?)", id.UID, err)
	}
	return nil
}

// setRlimits lowers the process's limits to rls, soft and hard (a hard
// limit already lower stays).
func setRlimits(rls []Rlimit) error {
	for _, rl := range rls {
		var cur unix.Rlimit
		if err := unix.Getrlimit(rl.Resource, &cur); err != nil {
			return fmt.Errorf("read rlimit %d: %w", rl.Resource, err)
		}
		v := min(rl.Value, cur.Max)
		if err := unix.Setrlimit(rl.Resource, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			return fmt.Errorf("set rlimit %d to %d: %w", rl.Resource, v, err)
		}
	}
	return nil
}
