package hostcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// sysctl is a kernel knob that can stop unprivileged user namespaces, and
// the value that does.
type sysctl struct {
	name  string // as sysctl(8) names it
	block string // the value that forbids unprivileged user namespaces
	fix   string
}

var usernsKnobs = []sysctl{
	// Debian's and older Ubuntu's patch; 0 forbids.
	{"kernel.unprivileged_userns_clone", "0",
		"sudo sysctl -w kernel.unprivileged_userns_clone=1 (and put it in /etc/sysctl.d/ to keep it)"},
	// The namespace limit; 0 forbids (RHEL/CentOS 7's default).
	{"user.max_user_namespaces", "0",
		"sudo sysctl -w user.max_user_namespaces=28633 (and put it in /etc/sysctl.d/ to keep it)"},
	// Ubuntu 23.10 and later: AppArmor takes capabilities in new user
	// namespaces from programs without a profile that allows them.
	{"kernel.apparmor_restrict_unprivileged_userns", "1",
		"give nook an AppArmor profile with 'userns,' (see Ubuntu's /etc/apparmor.d/ examples), or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"},
}

// nookNamespaces are the namespaces of a container: AppArmor's restriction
// lets the user namespace be made but not the mount namespace in it, so
// both probes are needed.
const nookNamespaces = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
	syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC | syscall.CLONE_NEWNET

func usernsSection(ctx context.Context) Section {
	b := newSection("user namespaces")
	knobs := readKnobs("/proc/sys")
	userErr := tryClone(ctx, syscall.CLONE_NEWUSER)
	allErr := error(nil)
	if userErr == nil {
		allErr = tryClone(ctx, nookNamespaces)
	}
	fix := usernsFix(knobs)
	switch {
	case userErr != nil:
		b.add(Problem, "user namespace", "cannot be created: "+userErr.Error(), fix)
		b.add(Problem, "container namespaces", "untested: no user namespace", fix)
	case allErr != nil:
		b.ok("user namespace", "can be created")
		b.add(Problem, "container namespaces", "mount, pid, uts, ipc and net namespaces in a new user namespace cannot be created: "+allErr.Error(), fix)
	default:
		b.ok("user namespace", "can be created")
		b.ok("container namespaces", "user, mount, pid, uts, ipc and net can be created")
	}
	failed := userErr != nil || allErr != nil
	for _, k := range usernsKnobs {
		v, present := knobs[k.name]
		switch {
		case !present:
			b.info(k.name, "not present in this kernel")
		case v == k.block && failed:
			b.add(Problem, k.name, v, k.fix)
		default:
			b.info(k.name, v)
		}
	}
	return b.s
}

// readKnobs reads the sysctls of usernsKnobs that exist under procSys.
func readKnobs(procSys string) map[string]string {
	vals := map[string]string{}
	for _, k := range usernsKnobs {
		data, err := os.ReadFile(procSys + "/" + strings.ReplaceAll(k.name, ".", "/"))
		if err == nil {
			vals[k.name] = strings.TrimSpace(string(data))
		}
	}
	return vals
}

// usernsFix names the knob that forbids user namespaces, or says where
// else to look.
func usernsFix(knobs map[string]string) string {
	var fixes []string
	for _, k := range usernsKnobs {
		if knobs[k.name] == k.block {
			fixes = append(fixes, k.fix)
		}
	}
	if len(fixes) == 0 {
		return "no known sysctl forbids them: ask an admin whether a security module (SELinux, seccomp in a container, a batch system) blocks unprivileged user namespaces"
	}
	return strings.Join(fixes, "; ")
}

// tryClone runs true(1) in new namespaces of the given kinds.
func tryClone(ctx context.Context, flags uintptr) error {
	bin, err := trueBinary()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clone %s in new namespaces: %w", bin, err)
	}
	return nil
}

func trueBinary() (string, error) {
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("true")
	if err != nil {
		return "", errors.New("no true(1) to run in a namespace (not in /bin, /usr/bin or PATH)")
	}
	return p, nil
}
