// Package atomicfile writes files so that readers see the old content or
// the new, never a part: through a temporary file beside the target,
// renamed over it.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Options says how a file is written.
type Options struct {
	// Perm is the file's mode; 0 keeps CreateTemp's 0600.
	Perm os.FileMode
	// Durable syncs the file before the rename and the directory after,
	// so that the new content survives a crash once WriteFile returns.
	Durable bool
}

// WriteFile replaces path with data.
func WriteFile(path string, data []byte, o Options) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil && o.Perm != 0 {
		err = f.Chmod(o.Perm)
	}
	if err == nil && o.Durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if o.Durable {
		return syncDir(dir)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
