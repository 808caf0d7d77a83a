package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Store is the local image store under one root directory. Its methods are
// safe for use by many goroutines and processes at once: every operation
// takes the store's file locks itself (see the package doc).
type Store struct {
	root string
}

// Names under the root.
const (
	blobsDir   = "blobs/sha256"
	layersDir  = "layers"
	indexFile  = "images.json"
	lockFile   = "lock"
	gcLockFile = "gc.lock"
)

// DefaultRoot is $XDG_DATA_HOME/nook, or $HOME/.local/share/nook when
// XDG_DATA_HOME is unset or not absolute (as the XDG spec says).
func DefaultRoot() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "nook"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the image store: %w (set XDG_DATA_HOME or HOME, or give --root)", err)
	}
	if !filepath.IsAbs(home) {
		return "", errors.New("find the image store: HOME is not an absolute path (set HOME, or give --root)")
	}
	return filepath.Join(home, ".local", "share", "nook"), nil
}

// Open opens the store at root, creating its directories (0700) and lock
// files when missing.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	for _, d := range []string{abs, filepath.Join(abs, "blobs"), filepath.Join(abs, blobsDir), filepath.Join(abs, layersDir)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open image store %s: %w", abs, err)
		}
	}
	for _, name := range []string{lockFile, gcLockFile} {
		f, err := os.OpenFile(filepath.Join(abs, name), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open image store %s: %w", abs, err)
		}
		f.Close()
	}
	return &Store{root: abs}, nil
}

// Root is the store's absolute root directory.
func (s *Store) Root() string { return s.root }

func (s *Store) layers() string { return filepath.Join(s.root, layersDir) }
