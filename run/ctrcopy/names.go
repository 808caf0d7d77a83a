package ctrcopy

import (
	"fmt"
	"path"
	"strings"
)

// cleanName turns an archive entry's name (or a hardlink's target) into a
// clean relative path: "." for the archive's root, never absolute, never
// through "..". A leading "/" is dropped (GNU tar's and Docker's way with
// absolute names); a name that climbs out after cleaning is refused.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("entry %q: %w: NUL in name", name, ErrUnsafeEntry)
	}
	n := path.Clean("/" + name)[1:]
	if n == "" {
		n = "."
	}
	// Clean of a rooted path has already eaten every "..", but say so
	// plainly for a name that tried: such an archive is hostile or broken.
	if climbs(name) {
		return "", fmt.Errorf("entry %q: %w: it climbs out of the destination with ..", name, ErrUnsafeEntry)
	}
	return n, nil
}

// climbs reports whether the relative form of name leaves its root.
func climbs(name string) bool {
	depth := 0
	for _, c := range strings.Split(strings.TrimLeft(name, "/"), "/") {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// validTop reports whether name can be an Info's Name: one path component,
// or "." for a directory's contents.
func validTop(name string, isDir bool) bool {
	if name == "." {
		return isDir
	}
	return name != "" && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// rebase maps an archive name (already clean) to its path inside the
// copied object ("." for the object itself). It refuses entries that are
// not the copied object or inside it, so an archive can never write a
// sibling of DST in DST's parent. A nil src (a bare tar stream) keeps n.
func rebase(n string, src *Info) (string, error) {
	if src == nil {
		return n, nil
	}
	rel := n
	if src.Name != "." {
		switch {
		case n == src.Name:
			rel = "."
		case strings.HasPrefix(n, src.Name+"/"):
			rel = n[len(src.Name)+1:]
		default:
			return "", fmt.Errorf("entry %q: %w: it is not inside the copied %q", n, ErrUnsafeEntry, src.Name)
		}
	}
	if !src.IsDir && rel != "." {
		return "", fmt.Errorf("entry %q: %w: the archive of a file holds a second entry", n, ErrBadArchive)
	}
	return rel, nil
}
