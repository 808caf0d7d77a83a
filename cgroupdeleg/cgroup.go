package cgroupdeleg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Cgroup is one container's cgroup: Plan decides it, Create makes it
// before the container's first process is cloned into it (FD), and Remove
// empties and removes it when the container has ended.
type Cgroup struct {
	dir  string
	base string
	// controllers are enabled in base's cgroup.subtree_control.
	controllers []string
	files       []File
	fd          *os.File
}

// Open is the cgroup in directory dir, as a container's record names it:
// for its stats, or to remove it after its monitor died.
func Open(dir string) *Cgroup { return &Cgroup{dir: dir} }

// Path is the cgroup's directory.
func (c *Cgroup) Path() string { return c.dir }

// Files are the interface files Create writes, in order.
func (c *Cgroup) Files() []File { return c.files }

// Create makes the cgroup and writes its limits, after enabling the
// controllers for it in the delegated cgroup (moving that cgroup's own
// processes into a leaf first when the kernel asks for it). What it made
// is removed again when a step fails.
func (c *Cgroup) Create() error {
	if err := enableControllers(c.base, c.controllers, c.files); err != nil {
		return err
	}
	if err := os.Mkdir(c.dir, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", c.dir, err)
	}
	if err := c.writeFiles(); err != nil {
		os.Remove(c.dir)
		return err
	}
	f, err := os.OpenFile(c.dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(c.dir)
		return fmt.Errorf("open cgroup %s: %w", c.dir, err)
	}
	c.fd = f
	return nil
}

// writeFiles writes the limits, each with an error naming the file.
func (c *Cgroup) writeFiles() error {
	for _, f := range c.files {
		name, value := f.Name, f.Value
		if f.Alt != "" {
			if _, err := os.Stat(filepath.Join(c.dir, f.Alt)); err == nil {
				name, value = f.Alt, f.AltValue
			}
		}
		err := writeFile(filepath.Join(c.dir, name), value)
		if errors.Is(err, os.ErrNotExist) && f.Optional {
			continue
		}
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("set %s to %q: this kernel's cgroup has no %s (for memory.swap.max: swap accounting is off, swapaccount=1)", name, value, name)
		}
		if err != nil {
			return fmt.Errorf("set %s to %q: %w", name, value, err)
		}
	}
	return nil
}

// FD is the open cgroup directory, for SysProcAttr.UseCgroupFD; -1
// before Create.
func (c *Cgroup) FD() int {
	if c.fd == nil {
		return -1
	}
	return int(c.fd.Fd())
}

// Close closes the directory FD opened, once the child was started.
func (c *Cgroup) Close() {
	if c.fd != nil {
		c.fd.Close()
		c.fd = nil
	}
}

// writeFile writes one value to a cgroup interface file: one write(2),
// as the kernel wants it.
func writeFile(p, value string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// leafName is the child of a delegated cgroup its own processes are
// moved into, so that it can enable controllers for its children.
const leafName = "leaf"

// enableControllers enables ctrls for base's children. The kernel
// refuses (EBUSY) while base has processes of its own (the
// no-internal-processes rule): they are then moved into base/leaf and the
// write tried again. A controller that still cannot be enabled is an
// error only when one of files needs it.
func enableControllers(base string, ctrls []string, files []File) error {
	have, err := readControllers(base, "cgroup.subtree_control")
	if err != nil {
		return fmt.Errorf("enable controllers in %s: %w", base, err)
	}
	var want []string
	for _, c := range ctrls {
		if !slices.Contains(have, c) {
			want = append(want, "+"+c)
		}
	}
	if len(want) == 0 {
		return nil
	}
	control := filepath.Join(base, "cgroup.subtree_control")
	// New processes can appear in base while its own are moved (a fork
	// there): a few rounds settle it.
	for round := 0; round < 10; round++ {
		err = writeFile(control, strings.Join(want, " "))
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		if err := moveToLeaf(base); err != nil {
			return err
		}
	}
	if err == nil {
		return nil
	}
	// One at a time, so that a controller nobody asked for cannot stop
	// the others.
	for _, w := range want {
		if werr := writeFile(control, w); werr != nil && neededBy(strings.TrimPrefix(w, "+"), files) {
			return fmt.Errorf("enable the %s controller in %s: %w", w[1:], control, werr)
		}
	}
	return nil
}

// neededBy reports whether one of files belongs to controller c.
func neededBy(c string, files []File) bool {
	for _, f := range files {
		if strings.HasPrefix(f.Name, c+".") {
			return true
		}
	}
	return false
}

// moveToLeaf moves every process of the cgroup in dir into dir/leaf.
func moveToLeaf(dir string) error {
	leaf := filepath.Join(dir, leafName)
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create leaf cgroup %s: %w", leaf, err)
	}
	pids, err := readPids(dir)
	if err != nil {
		return err
	}
	for _, pid := range pids {
		err := writeFile(filepath.Join(leaf, "cgroup.procs"), pid)
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("move process %s into %s: %w", pid, leaf, err)
		}
	}
	return nil
}

// readPids lists the processes of the cgroup in dir.
func readPids(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("list processes of %s: %w", dir, err)
	}
	return strings.Fields(string(b)), nil
}
