package run

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/internal/atomicfile"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/userns"
)

// Container states, as Docker names them.
const (
	StateCreated = "created"
	StateRunning = "running"
	StateExited  = "exited"
	// StateRestarting is a container whose monitor waits to start it
	// again (--restart).
	StateRestarting = "restarting"
)

// Container is a container's record, containers/<id>/container.json in the
// store. The monitor holds containers/<id>/lock while the container runs,
// so a record that says running with the lock free belongs to a monitor
// that died.
type Container struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Image    string    `json:"image"`
	ImageID  string    `json:"imageID"`
	Command  []string  `json:"command"`
	Created  time.Time `json:"created"`
	State    string    `json:"state"`
	ExitCode int       `json:"exitCode"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// MonitorPID is the nook process serving the container.
	MonitorPID int `json:"monitorPID,omitempty"`
	// Upper is the container's writable layer; Work the union's work
	// directory. Both are under Dir unless the store is on a network
	// filesystem (then on node-local storage).
	Upper string `json:"upper"`
	Work  string `json:"work"`
	// AutoRemove is --rm.
	AutoRemove bool `json:"autoRemove,omitempty"`
	// Lost is set when the record said running but its monitor was gone
	// (killed, or the machine rebooted): the exit status is unknown.
	Lost bool `json:"lost,omitempty"`
	// OOMKilled is set when the OOM killer killed a process of the
	// container (with a cgroup only).
	OOMKilled bool `json:"oomKilled,omitempty"`
	// Cgroup is the container's cgroup directory, when it has one: for
	// nook stats while it runs, and for the sweep after its monitor died.
	Cgroup string `json:"cgroup,omitempty"`
	// Network is the container's network mode (--network), and Ports its
	// published ports, for nook port, ps and inspect.
	Network string                `json:"network,omitempty"`
	Ports   []network.PortMapping `json:"ports,omitempty"`
	// ChildPID is the container's first process while it runs (as the
	// host sees it), and UserNS its user namespace plan: a container
	// started with --network container:NAME joins both.
	ChildPID int          `json:"childPID,omitempty"`
	UserNS   *userns.Plan `json:"userns,omitempty"`
	// RestartCount is how often the restart policy started it again.
	RestartCount int `json:"restartCount,omitempty"`
	// Error is why its last start failed.
	Error string `json:"error,omitempty"`
	// Detached is set while a monitor of its own runs it (run -d, start):
	// its output goes to its log, and attach connects to it.
	Detached bool `json:"detached,omitempty"`
	// stale is a Lost record that still says running on disk.
	stale bool

	dir  string
	lock *os.File
}

// Dir is the container's directory in the store.
func (c *Container) Dir() string { return c.dir }

// ShortID is the first 12 hex digits of the id, as Docker shows it.
func (c *Container) ShortID() string { return c.ID[:12] }

// ErrNameInUse is a --name another container has.
var ErrNameInUse = errors.New("container name already in use")

// ErrNoContainer is a reference that names no container.
var ErrNoContainer = errors.New("no such container")

// errBadRecord is a container.json that cannot be read: a crash before a
// SaveRunning reached the disk.
var errBadRecord = errors.New("unreadable record")

// ErrRunning is a container that must be stopped first.
var ErrRunning = errors.New("container is running")

// Containers is the store's containers/ directory, with the runtime
// directory that holds running containers' state.
type Containers struct {
	dir        string
	runtimeDir string
}

// OpenContainers opens (and creates) storeRoot/containers. runtimeDir
// ("" when unknown) is where containers' runtime directories are.
func OpenContainers(storeRoot, runtimeDir string) (*Containers, error) {
	dir := filepath.Join(storeRoot, "containers")
	if err := os.MkdirAll(filepath.Join(dir, "names"), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	return &Containers{dir: dir, runtimeDir: runtimeDir}, nil
}

// Create reserves name (generated when empty), makes the container's
// directory and returns the record locked, as its monitor holds it.
// upperBase, when not empty, is where the upper and work go instead of the
// container's directory (node-local storage).
func (cs *Containers) Create(c Container, upperBase string) (*Container, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	c.ID = id
	c.Created = time.Now().UTC()
	c.State = StateCreated
	if c.Name == "" {
		c.Name = generateName(id)
	} else if err := checkName(c.Name); err != nil {
		return nil, err
	}
	// The directory appears under its id already locked: made under a
	// temporary name, its lock taken, then renamed into place, so that
	// another nook's Sweep never takes a container being created for the
	// leftover of a crashed one.
	tmp := filepath.Join(cs.dir, creatingPrefix+id)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("create container directory: %w", err)
	}
	c.dir = tmp
	if err := c.takeLock(true); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	c.dir = filepath.Join(cs.dir, id)
	if err := os.Rename(tmp, c.dir); err != nil {
		c.Unlock()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create container directory: %w", err)
	}
	if err := cs.reserveName(c.Name, id); err != nil {
		os.RemoveAll(c.dir)
		return nil, err
	}
	base := c.dir
	if upperBase != "" {
		base = filepath.Join(upperBase, id)
	}
	c.Upper, c.Work = filepath.Join(base, "upper"), filepath.Join(base, "work")
	// The upper is the container's root directory: 0755 as in any image.
	// The container's own directory (0700) keeps other users out.
	if err := os.MkdirAll(base, 0o700); err != nil {
		cs.remove(&c)
		return nil, fmt.Errorf("create %s: %w", base, err)
	}
	for _, d := range []string{c.Upper, c.Work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			cs.remove(&c)
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	// The record is written by the caller's first Save, once it knows
	// the container runs: one fsync less on every start. Until then the
	// directory has no record, and a crash leaves it for Sweep.
	return &c, nil
}

// reserveName links names/NAME to the id: link(2) fails if the name is
// taken, so of two runs with one --name exactly one wins.
func (cs *Containers) reserveName(name, id string) error {
	tmp := filepath.Join(cs.dir, "names", "."+id)
	if err := os.WriteFile(tmp, []byte(id), 0o600); err != nil {
		return fmt.Errorf("reserve name %q: %w", name, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, filepath.Join(cs.dir, "names", name)); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: %q (remove that container with 'nook rm %s' or choose another --name)", ErrNameInUse, name, name)
		}
		return fmt.Errorf("reserve name %q: %w", name, err)
	}
	return nil
}

func checkName(name string) error {
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("_.-", r)
		if !ok {
			return fmt.Errorf("invalid container name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name)
		}
	}
	if name == "" || len(name) > 128 {
		return fmt.Errorf("invalid container name %q: 1 to 128 characters", name)
	}
	return nil
}

func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a container id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// creatingPrefix names a container directory still being created, and
// removingPrefix one being removed.
const (
	creatingPrefix = ".creating-"
	removingPrefix = ".removing-"
)

// takeLock takes the container's lock without waiting; create makes the
// lock file (only Create does: a directory without one is not for anyone
// else to take).
func (c *Container) takeLock(create bool) error {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), flags, 0o600)
	if err != nil {
		return fmt.Errorf("lock container %s: %w", c.ShortID(), err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return fmt.Errorf("lock container %s: %w", c.ShortID(), err)
	}
	c.lock = f
	return nil
}

// Unlock releases the monitor's lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// Save writes the record atomically and durably.
func (c *Container) Save() error { return c.save(true) }

// SaveRunning writes the record of a container that starts: atomically
// but without fsync, which would cost every start a disk flush for a
// state that a crash makes stale anyway (Sweep removes what a crash
// leaves unreadable, and records the rest as exited).
func (c *Container) SaveRunning() error { return c.save(false) }

func (c *Container) save(durable bool) error {
	unlock, err := c.lockRecord()
	if err != nil {
		return err
	}
	defer unlock()
	// The name is nook rename's: a monitor saving its state keeps the
	// name the record has now.
	if b, err := os.ReadFile(filepath.Join(c.dir, "container.json")); err == nil {
		var disk Container
		if json.Unmarshal(b, &disk) == nil && disk.Name != "" {
			c.Name = disk.Name
		}
	}
	return c.write(durable)
}

func (c *Container) write(durable bool) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode container %s: %w", c.ShortID(), err)
	}
	return atomicfile.WriteFile(filepath.Join(c.dir, "container.json"), b, atomicfile.Options{Durable: durable})
}

// lockRecord serialises the record's read-modify-writes: the monitor's
// saves and nook rename. It is not the monitor's lock, which says the
// container runs.
func (c *Container) lockRecord() (func(), error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "record.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock container %s's record: %w", c.ShortID(), err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock container %s's record: %w", c.ShortID(), err)
	}
	return func() { f.Close() }, nil
}

// Rename gives the container a new name: the new name is reserved first
// (so of two renames to one name exactly one wins), then the record
// changes, then the old name is freed.
func (cs *Containers) Rename(c *Container, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := cs.reserveName(name, c.ID); err != nil {
		return err
	}
	unlock, err := c.lockRecord()
	if err != nil {
		os.Remove(filepath.Join(cs.dir, "names", name))
		return err
	}
	defer unlock()
	fresh, err := cs.load(c.ID)
	if err != nil {
		os.Remove(filepath.Join(cs.dir, "names", name))
		return fmt.Errorf("rename container %s: %w", c.Name, err)
	}
	old := fresh.Name
	fresh.Name = name
	if err := fresh.write(true); err != nil {
		os.Remove(filepath.Join(cs.dir, "names", name))
		return fmt.Errorf("rename container %s: %w", old, err)
	}
	c.Name = name
	cs.releaseName(old, c.ID)
	return nil
}

// releaseName frees name if it is still id's.
func (cs *Containers) releaseName(name, id string) {
	p := filepath.Join(cs.dir, "names", name)
	if b, err := os.ReadFile(p); err == nil && string(b) == id {
		os.Remove(p)
	}
}

// List reads every container's record; running ones whose monitor is gone
// come back exited and Lost.
func (cs *Containers) List() ([]*Container, error) {
	ents, err := os.ReadDir(cs.dir)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []*Container
	for _, e := range ents {
		if !e.IsDir() || len(e.Name()) != 64 {
			continue
		}
		c, err := cs.load(e.Name())
		if err != nil {
			continue // being created or removed right now
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

func (cs *Containers) load(id string) (*Container, error) {
	dir := filepath.Join(cs.dir, id)
	b, err := os.ReadFile(filepath.Join(dir, "container.json"))
	if err != nil {
		return nil, err
	}
	c := &Container{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("read container %s: %w: %v", id, errBadRecord, err)
	}
	c.dir = dir
	if c.State == StateRunning || c.State == StateCreated || c.State == StateRestarting {
		if !lockHeld(filepath.Join(dir, "lock")) {
			// The exit status died with the monitor: -1, as the sweep
			// records it, never a success.
			c.State, c.Lost, c.stale = StateExited, true, true
			c.ExitCode = -1
		}
	}
	return c, nil
}

// lockHeld reports whether a monitor holds the lock file p.
func lockHeld(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	return false
}

// Sweep tidies up after monitors that died: a container whose record
// says running but whose lock is free is recorded as exited (Lost), its
// runtime directory under runtimeDir is removed, and with --rm the whole
// container goes. Every command that lists or changes containers calls it
// first, so that nothing a killed nook left stays for long.
func (cs *Containers) Sweep() error {
	ents, err := os.ReadDir(cs.dir)
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, e := range ents {
		if name, ok := strings.CutPrefix(e.Name(), creatingPrefix); ok && e.IsDir() {
			// A creator that died before the rename. One at work holds
			// the lock, or is about to (hence the age).
			c := &Container{ID: name, dir: filepath.Join(cs.dir, e.Name())}
			info, err := e.Info()
			if err == nil && time.Since(info.ModTime()) > time.Minute && c.takeLock(false) == nil {
				c.Unlock()
				removeTree(c.dir)
			}
			continue
		}
		if id, ok := strings.CutPrefix(e.Name(), removingPrefix); ok && e.IsDir() {
			cs.sweepRemoving(id)
			continue
		}
		if !e.IsDir() || len(e.Name()) != 64 {
			continue
		}
		c, err := cs.load(e.Name())
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errBadRecord) {
			cs.sweepUnrecorded(e.Name())
			continue
		}
		if err != nil || !c.stale {
			continue
		}
		// Take the lock so that a concurrent sweep or rm does not race
		// this one; a monitor starting now cannot own a lost record.
		if c.takeLock(false) != nil {
			continue
		}
		// Read again under the lock: a monitor that ended cleanly between
		// our read and our lock has recorded its exit, which must stand.
		if b, err := os.ReadFile(filepath.Join(c.dir, "container.json")); err == nil {
			var disk Container
			if json.Unmarshal(b, &disk) == nil && disk.State == StateExited {
				c.Unlock()
				continue
			}
		}
		if cs.runtimeDir != "" {
			os.RemoveAll(filepath.Join(cs.runtimeDir, c.ID))
		}
		// Its processes died with the monitor; its cgroup stayed.
		if err := cgroupdeleg.RemoveStale(c.Cgroup); err != nil {
			errs = append(errs, err)
		}
		if c.AutoRemove {
			err = cs.remove(c)
		} else {
			c.ExitCode = -1
			if c.Finished.IsZero() {
				c.Finished = time.Now().UTC()
			}
			err = c.Save()
			c.Unlock()
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepUnrecorded removes a container directory without a readable record
// whose creator is gone (it died between Create and its first save, or
// the machine crashed before that save reached the disk), and the name it
// reserved.
func (cs *Containers) sweepUnrecorded(id string) {
	c := &Container{ID: id, dir: filepath.Join(cs.dir, id)}
	if c.takeLock(false) != nil {
		return // its creator is still at work
	}
	if _, err := cs.load(id); err == nil {
		c.Unlock()
		return // saved meanwhile
	}
	names, _ := os.ReadDir(filepath.Join(cs.dir, "names"))
	for _, n := range names {
		p := filepath.Join(cs.dir, "names", n.Name())
		if b, err := os.ReadFile(p); err == nil && string(b) == id {
			os.Remove(p)
		}
	}
	c.Unlock()
	removeTree(c.dir)
}

// sweepRemoving finishes a remove that was killed half-way.
func (cs *Containers) sweepRemoving(id string) {
	dir := filepath.Join(cs.dir, removingPrefix+id)
	c := &Container{ID: id, dir: dir}
	if c.takeLock(false) != nil {
		return // its remove is still at work
	}
	if b, err := os.ReadFile(filepath.Join(dir, "container.json")); err == nil {
		json.Unmarshal(b, c)
	}
	c.ID, c.dir = id, dir
	cs.finishRemove(c)
	c.Unlock()
}

// Get finds a container by name, full id or unique id prefix.
func (cs *Containers) Get(ref string) (*Container, error) {
	if b, err := os.ReadFile(filepath.Join(cs.dir, "names", ref)); err == nil && checkName(ref) == nil {
		return cs.load(string(b))
	}
	all, err := cs.List()
	if err != nil {
		return nil, err
	}
	var found *Container
	for _, c := range all {
		if strings.HasPrefix(c.ID, ref) && len(ref) >= 1 {
			if found != nil {
				return nil, fmt.Errorf("container reference %q is ambiguous: give more of the id", ref)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoContainer, ref)
	}
	return found, nil
}

// Remove deletes a container that is not running. With force a running
// one is killed first: its monitor is asked to kill it (and, if it does
// not answer, killed itself), and Remove waits until the monitor is gone.
func (cs *Containers) Remove(c *Container, force bool) error {
	if c.lock == nil && c.takeLock(false) != nil {
		if !force {
			return fmt.Errorf("%w: %s (stop it first, or use 'nook rm -f')", ErrRunning, c.Name)
		}
		if err := cs.kill(c); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
		if err := c.waitLock(); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
	}
	return cs.remove(c)
}

// kill ends a running container for good: through its monitor, which
// then cleans up as after any end, or by killing the monitor when it does
// not answer (the container dies with it; the sweep cleans up).
func (cs *Containers) kill(c *Container) error {
	if err := cs.Signal(c, unix.SIGKILL, true); err == nil {
		return nil
	}
	return killMonitor(c.MonitorPID)
}

// waitLock takes the container's lock, waiting for its monitor to end.
func (c *Container) waitLock() error {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock container %s: %w", c.ShortID(), err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("lock container %s: %w", c.ShortID(), err)
	}
	c.lock = f
	return nil
}

// killMonitor kills a container's monitor (its container dies with it)
// and waits until it is gone, so that its lock and mounts are released.
func killMonitor(pid int) error {
	if pid <= 0 {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kill its monitor %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill its monitor %d: %w", pid, err)
	}
	// The pidfd becomes readable when the process has exited.
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, 10_000)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// remove deletes a container the caller holds the lock of (or whose
// monitor is gone). Its directory is first renamed out of sight, so that
// a remove killed half-way leaves nothing that lists as a container;
// Sweep finishes what it left, the name it held included.
func (cs *Containers) remove(c *Container) error {
	gone := filepath.Join(cs.dir, removingPrefix+c.ID)
	if err := os.Rename(c.dir, gone); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.Unlock()
		return fmt.Errorf("remove container %s: %w", c.ShortID(), err)
	}
	c.dir = gone
	err := cs.finishRemove(c)
	c.Unlock()
	return err
}

// finishRemove deletes what is left of a container whose directory was
// renamed out of sight.
func (cs *Containers) finishRemove(c *Container) error {
	cs.releaseName(c.Name, c.ID)
	if cs.runtimeDir != "" {
		os.RemoveAll(filepath.Join(cs.runtimeDir, c.ID))
	}
	// A monitor killed by rm -f did not remove the cgroup itself.
	if err := cgroupdeleg.RemoveStale(c.Cgroup); err != nil {
		return fmt.Errorf("remove container %s: %w", c.ShortID(), err)
	}
	// The upper lives elsewhere on node-local storage.
	if base := filepath.Dir(c.Upper); c.Upper != "" && base != filepath.Join(cs.dir, c.ID) {
		if err := removeTree(base); err != nil {
			return fmt.Errorf("remove container %s: %w", c.ShortID(), err)
		}
	}
	if err := removeTree(c.dir); err != nil {
		return fmt.Errorf("remove container %s: %w", c.ShortID(), err)
	}
	return nil
}

// removeTree is os.RemoveAll that also gets through directories the
// container left without write or search permission for their owner.
func removeTree(p string) error {
	err := os.RemoveAll(p)
	if err == nil || !errors.Is(err, os.ErrPermission) {
		return err
	}
	filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(q, 0o700)
		}
		return nil
	})
	return os.RemoveAll(p)
}

// LockFile is the open file of the container's lock, for a monitor
// started to run it to inherit.
func (c *Container) LockFile() *os.File { return c.lock }

// Adopt loads container id with its lock, which lock (inherited from the
// nook that started this monitor) holds.
func (cs *Containers) Adopt(id string, lock *os.File) (*Container, error) {
	c, err := cs.load(id)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	c.lock = lock
	c.State, c.Lost, c.stale = StateCreated, false, false
	return c, nil
}

// Lock takes the lock of a container that is not running, for nook start
// to hand to the monitor it starts.
func (cs *Containers) Lock(c *Container) error {
	if err := c.takeLock(false); err != nil {
		return fmt.Errorf("%w: %s", ErrRunning, c.Name)
	}
	// Reloaded under the lock: the record is this nook's now.
	fresh, err := cs.load(c.ID)
	if err != nil {
		c.Unlock()
		return err
	}
	fresh.lock = c.lock
	*c = *fresh
	return nil
}
