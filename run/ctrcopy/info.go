package ctrcopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Info describes what Pack archived, for the receiving side's destination
// rules (a directory may not replace a file; a file may become DST itself).
// It crosses the process boundary as JSON, or inside the archive (see
// PackOptions.Plain).
type Info struct {
	// Name is the archive's top entry, every other entry lies below it:
	// SRC's base name (the link's own name when FollowLink resolved it),
	// or "." when SRC ended in "/." and the archive holds the directory's
	// contents.
	Name string `json:"name"`
	// IsDir says SRC (after FollowLink) is a directory.
	IsDir bool `json:"isDir"`
}

// IDs is an owner: container ids on the container side, host ids on the
// host side.
type IDs struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
}

// PAX global header keys that carry Info inside the archive. Tar readers
// treat a global header as metadata, never as a file.
const (
	paxName = "NOOK.ctrcopy.name"
	paxDir  = "NOOK.ctrcopy.dir"
)

func (i Info) globalHeader() *tar.Header {
	dir := "0"
	if i.IsDir {
		dir = "1"
	}
	return &tar.Header{
		Typeflag:   tar.TypeXGlobalHeader,
		Name:       "pax_global_header",
		Format:     tar.FormatPAX,
		PAXRecords: map[string]string{paxName: i.Name, paxDir: dir},
	}
}

// infoFromHeader reads the Info that Pack put in a global header; ok is
// false for any other header.
func infoFromHeader(h *tar.Header) (info Info, ok bool, err error) {
	if h.Typeflag != tar.TypeXGlobalHeader {
		return Info{}, false, nil
	}
	name, found := h.PAXRecords[paxName]
	if !found {
		return Info{}, false, nil
	}
	info = Info{Name: name, IsDir: h.PAXRecords[paxDir] == "1"}
	if !validTop(info.Name, info.IsDir) {
		return Info{}, false, fmt.Errorf("%w: the archive names its top entry %q", ErrUnsafeEntry, name)
	}
	return info, true, nil
}

// source is SRC resolved by Docker's rules.
type source struct {
	path string      // what to read: SRC, or its target when a link is followed
	info Info        // the archive's top name and kind
	fi   fs.FileInfo // the top entry's own (lstat) info
}

// Stat resolves src as Pack would, without reading it: what the archive's
// top entry will be called and whether it is a directory.
func Stat(src string, followLink bool) (Info, error) {
	s, err := resolveSource(src, followLink)
	if err != nil {
		return Info{}, err
	}
	return s.info, nil
}

// resolveSource applies Docker's SRC rules. Symlinks in SRC's parents are
// always followed (by the kernel, against the current root: the
// container's on the container side); the last component only with
// followLink or a trailing "/" or "/.", which assert a directory.
func resolveSource(src string, followLink bool) (source, error) {
	if src == "" {
		return source{}, fmt.Errorf("copy from an empty path: name a file or directory")
	}
	clean := filepath.Clean(src)
	name := filepath.Base(clean)
	if name == ".." {
		abs, err := filepath.Abs(clean)
		if err != nil {
			return source{}, fmt.Errorf("copy from %s: %w", src, err)
		}
		name = filepath.Base(abs)
	}
	contents := name == "." || name == "/" || strings.HasSuffix(src, "/.")
	assertDir := contents || strings.HasSuffix(src, "/")
	if contents {
		name = "."
	}
	s := source{path: clean, info: Info{Name: name}}
	var err error
	if followLink || assertDir {
		// EvalSymlinks, not a path with the link left in: the walk then
		// reads the target's tree, whose inner symlinks stay links.
		if s.path, err = filepath.EvalSymlinks(clean); err != nil {
			return source{}, fmt.Errorf("copy from %s: %w", src, unwrapPath(err))
		}
	}
	if s.fi, err = os.Lstat(s.path); err != nil {
		return source{}, fmt.Errorf("copy from %s: %w", src, unwrapPath(err))
	}
	s.info.IsDir = s.fi.IsDir()
	if assertDir && !s.info.IsDir {
		return source{}, fmt.Errorf("copy from %s: %w (drop the trailing / or /.)", src, ErrNotDir)
	}
	return s, nil
}

// unwrapPath drops a *fs.PathError's own op and path, which repeat what
// the caller's message already says ("copy from /x: no such file or
// directory", not "copy from /x: lstat /x: no such ..."); errors.Is still
// sees the errno.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
