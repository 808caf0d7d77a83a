package overlayfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// plan is a command line checked against the filesystem: absolute paths,
// each lower's kind, and what to mount where. It is what the process that
// serves the union needs.
type plan struct {
	lowers     []lowerSpec // topmost first
	upper      string      // empty: read-only union
	work       string
	mountpoint string // absolute directory, or "/dev/fd/N"
	fsName     string
	debug      bool
	volatile   bool
	flags      MountFlags
}

// lowerSpec is one lower layer: a directory or an indexed layer tar.
type lowerSpec struct {
	path string
	tar  bool
}

// check resolves o's paths (relative to the current directory, so a daemon
// that changes directory keeps their meaning) and checks that they are what
// a union needs. Errors name the problem and the fix in one line.
func check(o Options) (plan, error) {
	p := plan{fsName: o.Source, debug: o.Debug, volatile: o.Volatile, flags: o.Flags}
	if p.fsName == "" {
		p.fsName = "nook-overlayfs"
	}
	mp, err := checkMountpoint(o.Mountpoint)
	if err != nil {
		return p, err
	}
	p.mountpoint = mp

	lowers := o.Lowers
	if o.Flags.ReadOnly && o.Upper != "" {
		// A read-only union still shows what the upper dir holds, as kernel
		// overlayfs does with -o ro: it becomes the topmost lower.
		lowers = append([]string{o.Upper}, lowers...)
	} else if o.Upper != "" {
		if p.upper, p.work, err = checkUpperWork(o.Upper, o.Work); err != nil {
			return p, err
		}
	}
	// Without an upper dir the union is read-only, and the mount says so,
	// as kernel overlayfs's does.
	p.flags.ReadOnly = p.upper == ""
	for _, l := range lowers {
		spec, err := checkLower(l)
		if err != nil {
			return p, err
		}
		p.lowers = append(p.lowers, spec)
	}
	return p, nil
}

func checkMountpoint(mp string) (string, error) {
	if isFuseFD(mp) {
		return mp, nil
	}
	abs, err := filepath.Abs(mp)
	if err != nil {
		return "", fmt.Errorf("resolve mountpoint %s: %w", mp, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("mountpoint %s does not exist: create it with mkdir -p %s", mp, mp)
	case err != nil:
		return "", fmt.Errorf("mountpoint %s: %w", mp, err)
	case !fi.IsDir():
		return "", fmt.Errorf("mountpoint %s is not a directory: mount on a directory", mp)
	}
	return abs, nil
}

// isFuseFD reports a "/dev/fd/N" mountpoint: an already mounted /dev/fuse
// descriptor that the caller passed (libfuse's convention, used by nook run).
func isFuseFD(mp string) bool {
	n, ok := strings.CutPrefix(mp, "/dev/fd/")
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkLower(l string) (lowerSpec, error) {
	abs, err := filepath.Abs(l)
	if err != nil {
		return lowerSpec{}, fmt.Errorf("resolve lowerdir %s: %w", l, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return lowerSpec{}, fmt.Errorf("lowerdir %s does not exist: check the path (lowerdir=TOP:...:BOTTOM, write '\\:' for a colon in a name)", l)
	case err != nil:
		return lowerSpec{}, fmt.Errorf("lowerdir %s: %w", l, err)
	case fi.IsDir():
		return lowerSpec{path: abs}, nil
	case fi.Mode().IsRegular() && strings.HasSuffix(abs, ".tar"):
		idx := strings.TrimSuffix(abs, ".tar") + ".idx"
		if _, err := os.Stat(idx); err != nil {
			return lowerSpec{}, fmt.Errorf("lowerdir %s has no index %s beside it: index it with 'nook layer index %s DIR' and use DIR/<diffid>.tar", l, filepath.Base(idx), l)
		}
		return lowerSpec{path: abs, tar: true}, nil
	default:
		return lowerSpec{}, fmt.Errorf("lowerdir %s is neither a directory nor an indexed layer .tar: give a directory or a .tar with its .idx", l)
	}
}

func checkUpperWork(upper, work string) (string, string, error) {
	u, ud, err := checkDir("upperdir", upper)
	if err != nil {
		return "", "", err
	}
	w, wd, err := checkDir("workdir", work)
	if err != nil {
		return "", "", err
	}
	if ud != wd {
		return "", "", fmt.Errorf("workdir %s is on a different filesystem than upperdir %s: put both on one filesystem (copy-up renames from workdir into upperdir)", work, upper)
	}
	ur, err := filepath.EvalSymlinks(u)
	if err != nil {
		return "", "", fmt.Errorf("resolve upperdir %s: %w", upper, err)
	}
	wr, err := filepath.EvalSymlinks(w)
	if err != nil {
		return "", "", fmt.Errorf("resolve workdir %s: %w", work, err)
	}
	if within(ur, wr) || within(wr, ur) {
		return "", "", fmt.Errorf("workdir %s and upperdir %s overlap: use two separate directories, e.g. siblings", work, upper)
	}
	return u, w, nil
}

// checkDir makes dir absolute and checks it is an existing directory; it
// returns the device it is on.
func checkDir(what, dir string) (string, uint64, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", 0, fmt.Errorf("resolve %s %s: %w", what, dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", 0, fmt.Errorf("%s %s does not exist: create it with mkdir -p %s", what, dir, dir)
	case err != nil:
		return "", 0, fmt.Errorf("%s %s: %w", what, dir, err)
	case !fi.IsDir():
		return "", 0, fmt.Errorf("%s %s is not a directory: give a directory", what, dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", 0, fmt.Errorf("%s %s: no device number in its stat", what, dir)
	}
	return abs, st.Dev, nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
