package difftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nookrun/nook/fuseunion"
	"github.com/nookrun/nook/internal/nstest"
	"golang.org/x/sys/unix"
)

// Candidate names. The reference is always kernel overlayfs.
const (
	candKernel        = "kernel"
	candNookDir       = "nook-dir"
	candNookTar       = "nook-tar"
	candFuseOverlayfs = "fuse-overlayfs"
)

// defaultCandidates run unless -difftest.candidates says otherwise.
// fuse-overlayfs is an optional cross-check of the harness itself (same
// semantics family, independent implementation).
var defaultCandidates = []string{candNookDir, candNookTar}

// nook promises more than kernel overlayfs does (see known_test.go); these
// flags switch on the extra checks for its candidates.
func isNook(name string) bool { return name == candNookDir || name == candNookTar }

// layers is a fixture written out once and shared, read-only, by every mount
// made from it.
type layers struct {
	spec fixtureSpec
	dirs []string // topmost first

	tarOnce  sync.Once
	tarStore string
	tars     []string // topmost first
	tarErr   error
}

func newLayers(t testing.TB, spec fixtureSpec) *layers {
	t.Helper()
	root := t.TempDir()
	dirs, err := writeFixtureDirs(root, spec)
	if err != nil {
		t.Fatalf("write fixture: %v", err)
	}
	return &layers{spec: spec, dirs: dirs, tarStore: filepath.Join(root, "store")}
}

// tarLayers converts every dir layer to an OCI tar and indexes it, once.
func (l *layers) tarLayers() ([]string, error) {
	l.tarOnce.Do(func() {
		if err := os.Mkdir(l.tarStore, 0o755); err != nil {
			l.tarErr = fmt.Errorf("make layer store: %w", err)
			return
		}
		for i, d := range l.dirs {
			var buf bytes.Buffer
			if err := writeOCITar(&buf, d); err != nil {
				l.tarErr = err
				return
			}
			raw := filepath.Join(l.tarStore, fmt.Sprintf("raw%d.tar", i))
			if err := os.WriteFile(raw, buf.Bytes(), 0o644); err != nil {
				l.tarErr = fmt.Errorf("write layer tar: %w", err)
				return
			}
			p, err := indexLayerTar(raw, l.tarStore)
			if err != nil {
				l.tarErr = fmt.Errorf("index layer %d: %w", i, err)
				return
			}
			l.tars = append(l.tars, p)
		}
	})
	return l.tars, l.tarErr
}

// mount is one live union: the reference or a candidate.
type mount struct {
	name    string
	root    string // the mount point
	upper   string
	unmount func() error
}

// backing is where uppers and workdirs live: the temp dir's filesystem or a
// tmpfs mounted in the test's namespace.
type backing struct {
	name string
	dir  string
}

func newBacking(t testing.TB, name string) backing {
	t.Helper()
	dir := t.TempDir()
	switch name {
	case "disk":
	case "tmpfs":
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
			nstest.Skip(t, fmt.Sprintf("mount tmpfs in the user namespace: %v", err))
		}
		t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	default:
		t.Fatalf("unknown backing %q (want disk or tmpfs)", name)
	}
	return backing{name: name, dir: dir}
}

// mountUnion mounts candidate name over l with a fresh upper and work dir in b.
func mountUnion(name string, l *layers, b backing) (*mount, error) {
	base, err := os.MkdirTemp(b.dir, name+"-")
	if err != nil {
		return nil, fmt.Errorf("make dirs for %s: %w", name, err)
	}
	m := &mount{name: name, root: filepath.Join(base, "mnt"), upper: filepath.Join(base, "upper")}
	work := filepath.Join(base, "work")
	for _, d := range []string{m.root, m.upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("make dirs for %s: %w", name, err)
		}
	}
	// The union's root takes the upper dir's attributes in kernel
	// overlayfs; give every upper the same ones.
	ts := []unix.Timespec{{Sec: defaultSec}, {Sec: defaultSec}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, m.upper, ts, 0); err != nil {
		return nil, fmt.Errorf("set upper times: %w", err)
	}
	switch name {
	case candKernel:
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", strings.Join(l.dirs, ":"), m.upper, work)
		if err := unix.Mount("overlay", m.root, "overlay", 0, opts); err != nil {
			return nil, fmt.Errorf("mount kernel overlayfs with %s: %w", opts, err)
		}
		m.unmount = func() error { return unix.Unmount(m.root, 0) }
	case candFuseOverlayfs:
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(l.dirs, ":"), m.upper, work)
		out, err := exec.Command("fuse-overlayfs", "-o", opts, m.root).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("mount fuse-overlayfs: %v: %s", err, out)
		}
		m.unmount = func() error { return unix.Unmount(m.root, 0) }
	case candNookDir, candNookTar:
		var lowers []fuseunion.Lower
		closeAll := func() {
			for _, lo := range lowers {
				lo.Close()
			}
		}
		paths, open := l.dirs, fuseunion.OpenDirLower
		if name == candNookTar {
			if paths, err = l.tarLayers(); err != nil {
				return nil, err
			}
			open = fuseunion.OpenTarLower
		}
		for _, p := range paths {
			lo, err := open(p)
			if err != nil {
				closeAll()
				return nil, fmt.Errorf("open lower %s: %w", p, err)
			}
			lowers = append(lowers, lo)
		}
		srv, err := fuseunion.Mount(m.root, fuseunion.Config{Lowers: lowers, Upper: m.upper, Work: work, FsName: "difftest"})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("mount fuseunion (%s): %w", name, err)
		}
		m.unmount = func() error {
			err := srv.Unmount()
			closeAll()
			return err
		}
	default:
		return nil, fmt.Errorf("unknown candidate %q", name)
	}
	return m, nil
}
