package layer

import (
	"path"
	"strings"
)

const (
	maxNameLen = 255      // a path component, as NAME_MAX
	maxPathLen = 64 << 10 // a whole normalised path; deeper than PATH_MAX on purpose
	maxLinkLen = 4095     // a symlink target, as symlink(2) accepts

	whPrefix = ".wh."
	whMeta   = ".wh..wh."
	whOpaque = ".wh..wh..opq"
)

// cleanName normalises a tar name as containerd does: path.Clean("/"+name)
// with the leading "/" stripped, so "../../etc/x" is "etc/x", "/abs/p" is
// "abs/p" and "." or "/" is "" (the root). ok is false for a name the index
// refuses: one with a NUL, a component over maxNameLen bytes, or over
// maxPathLen bytes in all.
func cleanName(name string) (clean string, ok bool) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	clean = path.Clean("/" + name)[1:]
	if len(clean) > maxPathLen {
		return "", false
	}
	for rest := clean; rest != ""; {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		if len(comp) > maxNameLen {
			return "", false
		}
	}
	return clean, true
}

// splitDir splits a clean non-root path into its directory ("" for the root)
// and base name.
func splitDir(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// validName reports whether s can be a stored name: a single non-empty
// component that is not "." or "..".
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= maxNameLen &&
		strings.IndexByte(s, '/') < 0 && strings.IndexByte(s, 0) < 0
}
