package difftest

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// writeLayerDir writes one layer spec into the empty directory dir in the
// form kernel overlayfs reads with userxattr: whiteouts are 0:0 character
// devices (mknod of those is allowed in a user namespace since Linux 5.8)
// and opaque dirs carry user.overlay.opaque="y".
func writeLayerDir(dir string, layer []entry) error {
	// Create everything first, then apply metadata children-first, so that
	// creating a child does not bump the parent's mtime afterwards.
	var withMeta []entry
	made := map[string]bool{"": true}
	var mkParents func(p string) error
	mkParents = func(p string) error {
		if made[p] {
			return nil
		}
		if err := mkParents(parentOf(p)); err != nil {
			return err
		}
		if err := os.Mkdir(filepath.Join(dir, p), 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("make implicit dir %s: %w", p, err)
		}
		made[p] = true
		withMeta = append(withMeta, entry{Kind: "dir", Path: p, Mode: 0o755, Sec: defaultSec})
		return nil
	}
	for _, e := range layer {
		if err := mkParents(parentOf(e.Path)); err != nil {
			return err
		}
		full := filepath.Join(dir, e.Path)
		var err error
		switch e.Kind {
		case "dir":
			if !made[e.Path] {
				err = os.Mkdir(full, 0o755)
				made[e.Path] = true
			}
			if err == nil && e.Opaque {
				err = unix.Setxattr(full, "user.overlay.opaque", []byte("y"), 0)
			}
		case "file":
			err = writeNew(full, e.content())
		case "symlink":
			err = os.Symlink(e.Target, full)
		case "fifo":
			err = unix.Mkfifo(full, 0o600)
		case "hardlink":
			err = os.Link(filepath.Join(dir, e.Target), full)
		case "whiteout":
			err = unix.Mknod(full, unix.S_IFCHR, 0)
		}
		if err != nil {
			return fmt.Errorf("write layer entry %s %s: %w", e.Kind, e.Path, err)
		}
		if e.Kind != "hardlink" && e.Kind != "whiteout" {
			withMeta = append(withMeta, e)
		}
	}
	for i := len(withMeta) - 1; i >= 0; i-- {
		if err := applyMeta(dir, withMeta[i]); err != nil {
			return err
		}
	}
	return nil
}

// writeNew creates a file that must not exist yet: a spec naming one path
// twice fails here rather than opening whatever is there (a fifo would
// block).
func writeNew(p, data string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func applyMeta(dir string, e entry) error {
	full := filepath.Join(dir, e.Path)
	if err := unix.Lchown(full, e.Uid, e.Gid); err != nil {
		return fmt.Errorf("chown layer entry %s: %w", e.Path, err)
	}
	if e.Kind != "symlink" {
		// After chown: chown clears setuid/setgid.
		if err := unix.Chmod(full, e.Mode); err != nil {
			return fmt.Errorf("chmod layer entry %s: %w", e.Path, err)
		}
	}
	for k, v := range e.Xattrs {
		if err := unix.Lsetxattr(full, k, []byte(v), 0); err != nil {
			return fmt.Errorf("set xattr %s on layer entry %s: %w", k, e.Path, err)
		}
	}
	ts := []unix.Timespec{{Sec: e.Sec, Nsec: e.Nsec}, {Sec: e.Sec, Nsec: e.Nsec}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, full, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of layer entry %s: %w", e.Path, err)
	}
	return nil
}

// writeFixtureDirs writes every layer of f under root and returns the layer
// directories topmost first, the order overlayfs and fuseunion take.
func writeFixtureDirs(root string, f fixtureSpec) ([]string, error) {
	dirs := make([]string, len(f.Layers))
	for i, l := range f.Layers {
		d := filepath.Join(root, fmt.Sprintf("layer%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("make layer dir: %w", err)
		}
		if err := writeLayerDir(d, l); err != nil {
			return nil, fmt.Errorf("write layer %d: %w", i, err)
		}
		dirs[len(f.Layers)-1-i] = d
	}
	return dirs, nil
}
