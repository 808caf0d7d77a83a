package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// source is an archive being loaded, as a set of regular files by
// slash-separated path: the members of a tar (read in place, never
// unpacked) or the files of a directory.
type source interface {
	// open opens the regular file at name, which must be a clean relative
	// path, and returns its size. A missing file is errMissing.
	open(name string) (io.ReadCloser, int64, error)
	// exists reports whether name is a regular file of the source.
	exists(name string) bool
	close() error
}

var errMissing = errors.New("missing from the archive")

// localPath checks a path that an archive's metadata gives for one of its
// files: relative, without "..", and cleaned. Anything else would name a
// file outside the archive.
func localPath(p string) (string, error) {
	c := path.Clean(strings.TrimPrefix(p, "./"))
	if p == "" || strings.HasPrefix(p, "/") || !fs.ValidPath(c) || c == "." || strings.Contains(p, "\\") {
		return "", fmt.Errorf("path %q is not inside the archive: %w", p, ErrInvalidArchive)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q is not inside the archive: %w", p, ErrInvalidArchive)
		}
	}
	return c, nil
}

// member is a regular file inside a tar: where its data starts and its
// size.
type member struct {
	off, size int64
}

// tarSource reads members of a tar file in place through section readers.
type tarSource struct {
	f       *os.File
	members map[string]member
}

// indexTar lists the members of the tar f in one pass. Members are only
// regular files and directories: a symlink or hard link (which could point
// the manifest at another member or, once extracted, outside), a device or
// a sparse file is refused, as are a member whose name leaves the archive
// and two members of one name. Not a tar at all is ErrNotArchive.
func indexTar(f *os.File) (*tarSource, error) {
	tr := tar.NewReader(f)
	src := &tarSource{f: f, members: map[string]member{}}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return nil, ErrNotArchive
			}
			return src, nil
		}
		if err != nil {
			if n == 0 {
				return nil, ErrNotArchive
			}
			return nil, fmt.Errorf("read archive: %w: %v", ErrInvalidArchive, err)
		}
		if n >= maxMembers {
			return nil, fmt.Errorf("archive has more than %d members: %w", maxMembers, ErrInvalidArchive)
		}
		if err := src.add(h); err != nil {
			return nil, err
		}
	}
}

func (src *tarSource) add(h *tar.Header) error {
	switch h.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil
	case tar.TypeDir, tar.TypeReg:
	case tar.TypeSymlink:
		return fmt.Errorf("archive member %q is a symlink (to %q); nook reads only regular files from image archives: %w", h.Name, h.Linkname, ErrInvalidArchive)
	case tar.TypeLink:
		return fmt.Errorf("archive member %q is a hard link (to %q); nook reads only regular files from image archives: %w", h.Name, h.Linkname, ErrInvalidArchive)
	default:
		return fmt.Errorf("archive member %q has type %q; nook reads only regular files from image archives: %w", h.Name, h.Typeflag, ErrInvalidArchive)
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("archive member %q is a sparse file; nook reads only regular files from image archives: %w", h.Name, ErrInvalidArchive)
		}
	}
	if h.Typeflag == tar.TypeDir {
		return nil // never read; only files are looked up
	}
	name, err := localPath(h.Name)
	if err != nil {
		return fmt.Errorf("archive member: %w", err)
	}
	if _, dup := src.members[name]; dup {
		return fmt.Errorf("archive has two members named %q: %w", name, ErrInvalidArchive)
	}
	// archive/tar never reads ahead: the file's offset is where the
	// member's data starts.
	off, err := src.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("read archive: %w", err)
	}
	src.members[name] = member{off: off, size: h.Size}
	return nil
}

func (src *tarSource) open(name string) (io.ReadCloser, int64, error) {
	m, ok := src.members[name]
	if !ok {
		return nil, 0, fmt.Errorf("%s: %w", name, errMissing)
	}
	return io.NopCloser(io.NewSectionReader(src.f, m.off, m.size)), m.size, nil
}

func (src *tarSource) exists(name string) bool {
	_, ok := src.members[name]
	return ok
}

func (src *tarSource) close() error { return src.f.Close() }

// dirSource reads the files of a directory (an OCI layout, or an unpacked
// docker-archive) through os.Root, so that no path or symlink in it can
// reach outside the directory.
type dirSource struct {
	root *os.Root
}

func openDir(dir string) (*dirSource, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirSource{root: r}, nil
}

func (src *dirSource) open(name string) (io.ReadCloser, int64, error) {
	f, err := src.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: %w", name, errMissing)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w: %v", name, ErrInvalidArchive, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file: %w", name, ErrInvalidArchive)
	}
	return f, fi.Size(), nil
}

func (src *dirSource) exists(name string) bool {
	fi, err := src.root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

func (src *dirSource) close() error { return src.root.Close() }

// readSmall reads the whole of a small file of src, refusing one over max
// bytes before reading it.
func readSmall(src source, name string, max int64) ([]byte, error) {
	rc, size, err := src.open(name)
	if err != nil {
		return nil, wrapMissing(err)
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d: %w", name, size, max, ErrInvalidArchive)
	}
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is over the limit of %d bytes: %w", name, max, ErrInvalidArchive)
	}
	return data, nil
}

// wrapMissing makes a missing file an invalid archive.
func wrapMissing(err error) error {
	if errors.Is(err, errMissing) {
		return fmt.Errorf("%w: %w", err, ErrInvalidArchive)
	}
	return err
}
