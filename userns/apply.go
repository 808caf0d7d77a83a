package userns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Apply writes the plan's maps for process pid, a child cloned with
// CLONE_NEWUSER whose maps are not written yet. With helpers it runs
// newgidmap, then newuidmap; otherwise (only the user's own id is mapped)
// it denies setgroups and writes gid_map and uid_map itself, which an
// unprivileged parent may do for its own ids.
func (p Plan) Apply(pid int) error {
	if p.NewUIDMap == "" || p.NewGIDMap == "" {
		return writeMaps(pid, p.UIDs, p.GIDs, true)
	}
	// The two maps are independent files: write them at once, which
	// saves one helper's start on every container's.
	gidErr := make(chan error, 1)
	go func() { gidErr <- runHelper(p.NewGIDMap, "/etc/subgid", pid, p.GIDs) }()
	uidErr := runHelper(p.NewUIDMap, "/etc/subuid", pid, p.UIDs)
	if err := <-gidErr; err != nil {
		return err
	}
	return uidErr
}

// ApplyInner writes keep-id's nested maps for process pid, a child the
// container's init cloned with CLONE_NEWUSER. The caller must hold
// CAP_SETUID and CAP_SETGID in the outer namespace (the init, root there,
// after it gained its capabilities); setgroups is left as it was.
func (p Plan) ApplyInner(pid int) error {
	if p.Mode != KeepID {
		return fmt.Errorf("apply inner id maps to %d: plan is %s, not keep-id", pid, p.Mode)
	}
	return writeMaps(pid, p.InnerUIDs, p.InnerGIDs, false)
}

// runHelper runs newuidmap or newgidmap. The helper checks the ranges
// against the subordinate id file (or nsswitch) itself.
func runHelper(helper, file string, pid int, m []Mapping) error {
	args := []string{strconv.Itoa(pid)}
	for _, l := range m {
		args = append(args, strconv.FormatUint(uint64(l.ContainerID), 10),
			strconv.FormatUint(uint64(l.HostID), 10), strconv.FormatUint(uint64(l.Size), 10))
	}
	out, err := exec.Command(helper, args...).CombinedOutput()
	if err == nil {
		return nil
	}
	said := strings.Join(strings.Fields(string(out)), " ")
	if said == "" {
		said = "(no output)"
	}
	name := filepath.Base(helper)
	return fmt.Errorf("%w: %s %s: %v: %s; check that %s grants these ids to you and that %s is setuid root, or use --userns=single",
		ErrHelper, name, strings.Join(args, " "), err, said, file, helper)
}

// writeMaps writes gid_map and uid_map of pid directly, denying setgroups
// first when deny is set (the kernel demands it before an unprivileged
// process writes gid_map). Each map goes in one write, as the kernel
// requires.
func writeMaps(pid int, uids, gids []Mapping, deny bool) error {
	dir := "/proc/" + strconv.Itoa(pid)
	if deny {
		if err := writeProc(dir+"/setgroups", "deny"); err != nil {
			return err
		}
	}
	if err := writeProc(dir+"/gid_map", mapText(gids)); err != nil {
		return err
	}
	return writeProc(dir+"/uid_map", mapText(uids))
}

func writeProc(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrMapWrite, path, err)
	}
	_, err = f.Write([]byte(text))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is named already
	}
	if err != nil {
		return fmt.Errorf("%w %s %q: %w (was it written already, or is the process not yours?)",
			ErrMapWrite, path, strings.TrimSpace(text), err)
	}
	return nil
}

func mapText(m []Mapping) string {
	var b strings.Builder
	for _, l := range m {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}
