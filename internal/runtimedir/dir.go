package runtimedir

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Info is the runtime directory Resolve chose and why.
type Info struct {
	// Path is the directory, made if it was missing.
	Path string `json:"path"`
	// Fallback is true for the private /tmp/nook-UID, used when the user
	// has no usable session runtime directory.
	Fallback bool `json:"fallback"`
	// Skipped says, in order, why each earlier candidate was not used,
	// e.g. "XDG_RUNTIME_DIR=/run/user/0 is owned by uid 0, not uid 1001".
	Skipped []string `json:"skipped,omitempty"`
}

// Dir returns uid's runtime directory, making it if needed (see the
// package doc for where it is and why).
func Dir(uid int, opts ...Option) (string, error) {
	info, err := Resolve(uid, opts...)
	return info.Path, err
}

// Resolve is Dir that also says whether the directory is the fallback and
// why the session's directory was not used.
func Resolve(uid int, opts ...Option) (Info, error) {
	info, fd, err := resolve(uid, newConfig(opts))
	if err == nil {
		unix.Close(fd)
	}
	return info, err
}

// resolve is Resolve that returns the directory open as well.
func resolve(uid int, c config) (Info, int, error) {
	var info Info
	type candidate struct{ label, dir string }
	var candidates []candidate
	if c.xdg == "" {
		info.Skipped = append(info.Skipped, "XDG_RUNTIME_DIR is not set")
	} else {
		candidates = append(candidates, candidate{"XDG_RUNTIME_DIR=" + c.xdg, c.xdg})
	}
	if c.runUser != "" {
		d := filepath.Join(c.runUser, strconv.Itoa(uid))
		candidates = append(candidates, candidate{d, d})
	}
	for _, cand := range candidates {
		if problem := sessionProblem(cand.dir, uid); problem != "" {
			info.Skipped = append(info.Skipped, cand.label+" "+problem)
			continue
		}
		// The session directory is private already; nook's own directory
		// in it must be too (a wrong mode there is the user's to fix).
		fd, p, err := openPrivate(cand.dir, "nook", uid)
		if err != nil {
			return info, -1, fmt.Errorf("make runtime directory: %w", err)
		}
		info.Path = p
		return info, fd, nil
	}
	fd, p, err := openPrivate(c.tmp, fallbackName(uid), uid)
	if err != nil {
		return info, -1, fmt.Errorf("make runtime directory (%s): %w", strings.Join(info.Skipped, "; "), err)
	}
	info.Path, info.Fallback = p, true
	return info, fd, nil
}

func fallbackName(uid int) string { return "nook-" + strconv.Itoa(uid) }

// isFallbackName reports whether base is "nook-" followed by a uid.
func isFallbackName(base string) bool {
	digits, ok := strings.CutPrefix(base, "nook-")
	if !ok || digits == "" {
		return false
	}
	_, err := strconv.ParseUint(digits, 10, 32)
	return err == nil
}
