package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// The data layer: two big files of incompressible bytes, kept apart from
// the Debian layer so that layer stays exactly what mmdebstrap made.
const (
	readFile   = "bench/read-1g.bin" // read sequentially
	readSize   = 1 << 30
	copyUpFile = "bench/copyup-512m.bin" // appended to, forcing a copy-up
	copyUpSize = 512 << 20
)

// ensureData makes cache/data (a directory layer) and cache/data.tar (the
// same files as a tar, to index for the tar lower).
func (e *env) ensureData() error {
	e.dataDir = filepath.Join(e.cache, "data")
	e.dataTar = filepath.Join(e.cache, "data.tar")
	if ok, err := done(e.dataDir); err != nil || !ok {
		if err != nil {
			return err
		}
		progress("generating %d MiB of lower files in %s (once)", (readSize+copyUpSize)>>20, e.dataDir)
		tmp := e.dataDir + ".tmp"
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("clear %s: %w", tmp, err)
		}
		if err := os.MkdirAll(filepath.Join(tmp, "bench"), 0o755); err != nil {
			return err
		}
		if err := writeRandom(filepath.Join(tmp, readFile), readSize, 1); err != nil {
			return err
		}
		if err := writeRandom(filepath.Join(tmp, copyUpFile), copyUpSize, 2); err != nil {
			return err
		}
		if err := os.Rename(tmp, e.dataDir); err != nil {
			return err
		}
		_ = os.Remove(e.dataTar)
	}
	if ok, err := done(e.dataTar); ok || err != nil {
		return err
	}
	tmp := e.dataTar + ".tmp"
	if err := run("tar", "--numeric-owner", "-cf", tmp, "-C", e.dataDir, "."); err != nil {
		return err
	}
	return os.Rename(tmp, e.dataTar)
}

// writeRandom writes size bytes from a seeded ChaCha8 stream: the same file
// every time, and nothing a filesystem or cache could compress.
func writeRandom(path string, size int64, seed byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	src := rand.NewChaCha8([32]byte{seed})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		n := min(int64(len(buf)), left)
		_, _ = src.Read(buf[:n]) // never fails
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
