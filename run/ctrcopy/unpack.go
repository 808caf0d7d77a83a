package ctrcopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// UnpackOptions says how Unpack applies an archive. It is plain data (but
// OnSkip), so it can cross to the container side as JSON.
type UnpackOptions struct {
	// Src describes the archive (Pack's Info). Nil takes it from the
	// archive's PAX global header; an archive without one is a bare tar
	// stream, extracted into DST, which must be an existing directory
	// (docker cp - CONTAINER:DST).
	Src *Info `json:"src,omitempty"`
	// Chown makes every entry owned by these ids: the container side of
	// a copy into a container, where Docker makes files root's.
	Chown *IDs `json:"chown,omitempty"`
	// KeepOwners gives every entry the ids in the archive (docker cp -a).
	// With neither, no chown is attempted: files belong to the caller,
	// as on the host side.
	KeepOwners bool `json:"keepOwners,omitempty"`
	// OnSkip, if set, hears of each entry left out: device nodes the
	// caller may not create (any unprivileged or user-namespaced caller).
	OnSkip func(name string, err error) `json:"-"`
}

// Unpack extracts the archive r into dst by Docker's destination rules
// (see planDest). No entry can land outside dst (or outside the one path
// the rules create beside it): names are cleaned and must stay inside the
// copied object, no symlink is ever followed while extracting, files are
// written under a temporary name and renamed into place, a directory never
// replaces a non-directory nor the reverse. On error, entries already
// extracted stay; the one being written does not.
//
// Unpack stops reading at the archive's end-of-archive blocks; a tar
// writer may pad past them (GNU tar to 10 KiB), so a caller reading a pipe
// drains it if the writer must not see EPIPE.
func Unpack(r io.Reader, dst string, opts UnpackOptions) error {
	if opts.Chown != nil && opts.KeepOwners {
		return fmt.Errorf("copy to %s: %w: Chown and KeepOwners (-a) exclude each other", dst, ErrOptions)
	}
	if opts.Src != nil && !validTop(opts.Src.Name, opts.Src.IsDir) {
		return fmt.Errorf("copy to %s: %w: source name %q", dst, ErrOptions, opts.Src.Name)
	}
	tr := tar.NewReader(r)
	first, err := tr.Next()
	if errors.Is(err, io.EOF) {
		// Nothing or only end-of-archive blocks: the other side died
		// before it wrote, or there was nothing to send. Either way no
		// copy happened, which the caller must hear.
		return fmt.Errorf("copy to %s: %w: it holds no entries", dst, ErrBadArchive)
	}
	if err != nil {
		return fmt.Errorf("copy to %s: %w: %v", dst, ErrBadArchive, err)
	}
	src := opts.Src
	info, ok, err := infoFromHeader(first)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if ok {
		if src == nil {
			src = &info
		}
		first = nil // consumed: the entries start at the next header
	}
	pl, err := planDest(dst, src)
	if err != nil {
		return err
	}
	u, err := newUnpacker(pl, src, opts)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	err = u.run(tr, first)
	// Directory modes and times go last, also after an error, so a
	// partial copy has the directories' own metadata where it got them.
	if ferr := u.finish(); err == nil {
		err = ferr
	}
	u.close()
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return nil
}

type unpacker struct {
	t      tree
	pl     plan
	src    *Info
	opts   UnpackOptions
	n      int                    // entries extracted
	dirs   map[string]*tar.Header // directories' deferred metadata, by path below root
	last   string                 // the directory cached in lastFD
	lastFD int
}

func newUnpacker(pl plan, src *Info, opts UnpackOptions) (*unpacker, error) {
	root, err := unix.Open(pl.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", pl.root, err)
	}
	u := &unpacker{
		t:      tree{root: root, openat2: true},
		pl:     pl,
		src:    src,
		opts:   opts,
		dirs:   map[string]*tar.Header{},
		lastFD: -1,
	}
	if opts.Chown != nil {
		ids := *opts.Chown
		u.t.mkdirHook = func(parent int, name string) error {
			return chownAt(parent, name, ids)
		}
	}
	return u, nil
}

func (u *unpacker) close() {
	if u.lastFD >= 0 {
		unix.Close(u.lastFD)
	}
	unix.Close(u.t.root)
}

func (u *unpacker) run(tr *tar.Reader, hdr *tar.Header) error {
	for {
		if hdr == nil {
			var err error
			hdr, err = tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%w: %v", ErrBadArchive, err)
			}
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
		hdr = nil
	}
	if u.n == 0 {
		return fmt.Errorf("%w: it holds no entries", ErrBadArchive)
	}
	return nil
}

// target maps an archive name to its path below the root ("." is the
// root itself); top says the name is the copied object itself.
func (u *unpacker) target(name string) (p string, top bool, err error) {
	n, err := cleanName(name)
	if err != nil {
		return "", false, err
	}
	rel, err := rebase(n, u.src)
	if err != nil {
		return "", false, err
	}
	return path.Join(u.pl.prefix, rel), rel == ".", nil
}

// parent returns an O_PATH fd of rel's directory (owned by the cache: do
// not close it) and rel's base name.
func (u *unpacker) parent(rel string) (int, string, error) {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	if u.lastFD >= 0 && u.last == dir {
		return u.lastFD, base, nil
	}
	fd, err := u.t.open(dir, true)
	if err != nil {
		return -1, "", err
	}
	if u.lastFD >= 0 {
		unix.Close(u.lastFD)
	}
	u.last, u.lastFD = dir, fd
	return fd, base, nil
}

// owner is the ids an entry gets, or nil for none.
func (u *unpacker) owner(hdr *tar.Header) *IDs {
	switch {
	case u.opts.Chown != nil:
		return u.opts.Chown
	case u.opts.KeepOwners:
		return &IDs{UID: hdr.Uid, GID: hdr.Gid}
	}
	return nil
}

// finish applies the directories' ownership, modes and times, deepest
// first: their children are all written (which changed their mtimes), and
// a directory made read-only or closed does not stop work below it.
func (u *unpacker) finish() error {
	if u.lastFD >= 0 {
		unix.Close(u.lastFD)
		u.lastFD, u.last = -1, ""
	}
	paths := make([]string, 0, len(u.dirs))
	for p := range u.dirs {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		di, dj := strings.Count(paths[i], "/"), strings.Count(paths[j], "/")
		if di != dj {
			return di > dj
		}
		return paths[i] < paths[j]
	})
	var first error
	for _, p := range paths {
		if err := u.dirMeta(p, u.dirs[p]); err != nil && first == nil {
			first = err
		}
	}
	return first
}
