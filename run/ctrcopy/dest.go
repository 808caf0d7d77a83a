package ctrcopy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// plan is where the archive goes: every entry lands at root/prefix/REL,
// where REL is the entry's path inside the copied object.
type plan struct {
	root   string // an existing directory: DST, or DST's parent
	prefix string // one component (DST's base, or SRC's name), or "" for root itself
}

// maxLinks bounds the symlinks followed at DST, as the kernel's 40.
const maxLinks = 40

// planDest applies Docker's DST rules for a source described by src (nil:
// a bare tar stream, which goes into an existing directory).
//
//	DST                         SRC file              SRC dir (SRC/. alike)
//	exists, directory           DST/NAME              DST/NAME (SRC/.: into DST)
//	exists, file                replaced              ErrCannotCopyDir
//	exists, file, ends in /     ErrNotDir             ErrNotDir
//	missing, parent exists      created as a file     created as a directory
//	missing, ends in /          ErrDirNotExist        created as a directory
//	missing, parent missing     ErrNoParent           ErrNoParent
//
// A symlink at DST is followed (Docker does), so the copy goes where it
// points; only the archive's own entries are never followed.
func planDest(dst string, src *Info) (plan, error) {
	if dst == "" {
		return plan{}, errors.New("copy to an empty path: name a file or directory")
	}
	assertDir := strings.HasSuffix(dst, "/") || strings.HasSuffix(dst, "/.")
	p, fi, err := resolveDest(filepath.Clean(dst))
	if err != nil {
		return plan{}, fmt.Errorf("copy to %s: %w", dst, err)
	}
	exists := fi != nil
	switch {
	case exists && fi.IsDir():
		if src == nil || src.Name == "." {
			return plan{root: p}, nil
		}
		return plan{root: p, prefix: src.Name}, nil
	case exists && assertDir:
		return plan{}, fmt.Errorf("copy to %s: %w (it is a file)", dst, ErrNotDir)
	case src == nil:
		return plan{}, fmt.Errorf("copy a tar stream to %s: destination must be an existing directory", dst)
	case exists && src.IsDir:
		return plan{}, fmt.Errorf("copy to %s: %w (name a directory, or a path that does not exist yet)", dst, ErrCannotCopyDir)
	case !exists && !src.IsDir && assertDir:
		return plan{}, fmt.Errorf("copy to %s: %w (create it first, or drop the trailing /)", dst, ErrDirNotExist)
	}
	parent, base := filepath.Dir(p), filepath.Base(p)
	if pfi, err := os.Stat(parent); err != nil || !pfi.IsDir() {
		return plan{}, fmt.Errorf("copy to %s: %w %s (create it first)", dst, ErrNoParent, parent)
	}
	return plan{root: parent, prefix: base}, nil
}

// resolveDest follows symlinks at the last component of p; fi is nil when
// the (resolved) path does not exist.
func resolveDest(p string) (string, fs.FileInfo, error) {
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			// ENOTDIR: a parent is a file; the parent check says so.
			return p, nil, nil
		}
		if err != nil {
			return "", nil, unwrapPath(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, fi, nil
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", nil, unwrapPath(err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = filepath.Clean(target)
	}
	return "", nil, fmt.Errorf("too many levels of symbolic links")
}
