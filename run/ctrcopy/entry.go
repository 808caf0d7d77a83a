package ctrcopy

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// tempPrefix starts the names entries are written under before their
// rename into place.
const tempPrefix = ".nookcp-"

// entry extracts one archive entry.
func (u *unpacker) entry(hdr *tar.Header, body io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // metadata for the reader, not a file
	}
	p, top, err := u.target(hdr.Name)
	if err != nil {
		return err
	}
	u.n++
	isDir := hdr.Typeflag == tar.TypeDir
	if top && u.src != nil && isDir != u.src.IsDir {
		return fmt.Errorf("entry %q: %w: its type does not match the source's (directory: %v)", hdr.Name, ErrBadArchive, u.src.IsDir)
	}
	if p == "." {
		// The root is DST, an existing directory the contents go into.
		// Docker leaves its own mode and times alone, and so do we: a
		// copy of /tmp/. must not make a home directory 1777.
		if isDir {
			return nil
		}
		return fmt.Errorf("entry %q: %w: it would replace the directory %s", hdr.Name, ErrReplace, u.pl.root)
	}
	dir, base, err := u.parent(p)
	if err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, err)
	}
	var st unix.Stat_t
	err = unix.Fstatat(dir, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	exists := err == nil
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("entry %q: stat %s: %w", hdr.Name, p, err)
	}
	wasDir := exists && st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case isDir && exists && !wasDir:
		return fmt.Errorf("entry %q: %w: %s exists and is not a directory (a symlink is never followed)", hdr.Name, ErrReplace, p)
	case !isDir && wasDir:
		return fmt.Errorf("entry %q: %w: %s is a directory", hdr.Name, ErrReplace, p)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !exists {
			if err := unix.Mkdirat(dir, base, 0o700); err != nil {
				return fmt.Errorf("entry %q: mkdir %s: %w", hdr.Name, p, err)
			}
		}
		u.dirs[p] = hdr
		return nil
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		err = u.file(dir, base, hdr, body)
	case tar.TypeSymlink:
		err = u.symlink(dir, base, hdr)
	case tar.TypeLink:
		err = u.hardlink(dir, base, hdr)
	case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
		err = u.node(dir, base, p, hdr)
	default:
		err = fmt.Errorf("%w: type %q is not supported", ErrBadArchive, hdr.Typeflag)
	}
	if err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, err)
	}
	return nil
}

// tempName is a fresh name for an entry being written; the caller retries
// on EEXIST.
func tempName() string {
	return tempPrefix + strconv.FormatUint(rand.Uint64(), 36)
}

// withTemp creates a temporary entry in dir with create, retrying on a
// name clash, and returns its name.
func withTemp(create func(name string) error) (string, error) {
	for range 100 {
		name := tempName()
		err := create(name)
		if !errors.Is(err, unix.EEXIST) {
			return name, err
		}
	}
	return "", fmt.Errorf("create a temporary entry: %w", unix.EEXIST)
}

// place renames the finished temporary entry over base, or removes it.
func place(dir int, tmp, base string, err error) error {
	if err == nil {
		err = unix.Renameat(dir, tmp, dir, base)
	}
	if err != nil {
		_ = unix.Unlinkat(dir, tmp, 0)
	}
	return err
}

// tarReader remembers an error of the archive's side of a copy, to tell a
// broken archive from a full disk.
type tarReader struct {
	r   io.Reader
	err error
}

func (t *tarReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	return n, err
}

func (u *unpacker) file(dir int, base string, hdr *tar.Header, body io.Reader) error {
	var fd int
	tmp, err := withTemp(func(name string) error {
		var err error
		fd, err = unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return fmt.Errorf("create a file beside %s: %w", base, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	src := &tarReader{r: body}
	_, err = io.Copy(f, src)
	switch {
	case src.err != nil:
		err = fmt.Errorf("%w: %v", ErrBadArchive, src.err)
	case err != nil:
		err = fmt.Errorf("write %s: %w", base, err)
	}
	if ids := u.owner(hdr); err == nil && ids != nil {
		if err = unix.Fchown(fd, ids.UID, ids.GID); err != nil {
			err = chownError(base, *ids, err)
		}
	}
	// After the chown, which clears setuid and setgid.
	if err == nil {
		if err = unix.Fchmod(fd, mode(hdr)); err != nil {
			err = fmt.Errorf("chmod %s: %w", base, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", base, cerr)
	}
	if err == nil {
		err = setTimes(dir, tmp, hdr)
	}
	return place(dir, tmp, base, err)
}

func (u *unpacker) symlink(dir int, base string, hdr *tar.Header) error {
	tmp, err := withTemp(func(name string) error {
		return unix.Symlinkat(hdr.Linkname, dir, name)
	})
	if err != nil {
		return fmt.Errorf("symlink %s: %w", base, err)
	}
	if ids := u.owner(hdr); ids != nil {
		err = chownAt(dir, tmp, *ids)
	}
	if err == nil {
		err = setTimes(dir, tmp, hdr)
	}
	return place(dir, tmp, base, err)
}

// hardlink links base to an entry already extracted (or already in DST),
// found by the same rules as every entry: inside the copy, through no
// symlink. Its metadata is the target's.
func (u *unpacker) hardlink(dir int, base string, hdr *tar.Header) error {
	target, _, err := u.target(hdr.Linkname)
	if err != nil {
		return fmt.Errorf("hardlink target: %w", err)
	}
	if target == "." {
		return fmt.Errorf("%w: hardlink to the destination directory", ErrUnsafeEntry)
	}
	tdir, tbase := path.Split(target)
	if tdir == "" {
		tdir = "."
	}
	tfd, err := u.t.open(path.Clean(tdir), false)
	if err != nil {
		return fmt.Errorf("hardlink target %s: %w", target, err)
	}
	defer unix.Close(tfd)
	tmp, err := withTemp(func(name string) error {
		return unix.Linkat(tfd, tbase, dir, name, 0) // 0: a symlink target is linked, not followed
	})
	if err != nil {
		return fmt.Errorf("hardlink %s to %s: %w", base, target, err)
	}
	err = place(dir, tmp, base, nil)
	// rename(2) does nothing when both names are one file already (the
	// archive links a name to itself): the temporary name is left; drop it.
	_ = unix.Unlinkat(dir, tmp, 0)
	if err != nil {
		return fmt.Errorf("hardlink %s to %s: %w", base, target, err)
	}
	return nil
}

// node makes a fifo or a device. A device needs CAP_MKNOD in the initial
// user namespace: as any unprivileged or user-namespaced caller it is
// skipped, as Docker skips it in a user namespace.
func (u *unpacker) node(dir int, base, p string, hdr *tar.Header) error {
	kind := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		kind = unix.S_IFCHR
	case tar.TypeBlock:
		kind = unix.S_IFBLK
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	tmp, err := withTemp(func(name string) error {
		return unix.Mknodat(dir, name, kind|mode(hdr), int(dev))
	})
	if kind != unix.S_IFIFO && errors.Is(err, unix.EPERM) {
		if u.opts.OnSkip != nil {
			u.opts.OnSkip(p, fmt.Errorf("device node not created: %w", err))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("mknod %s: %w", base, err)
	}
	if ids := u.owner(hdr); ids != nil {
		err = chownAt(dir, tmp, *ids)
	}
	if err == nil {
		err = chmodAt(dir, tmp, mode(hdr)) // mknod's mode went through the umask
	}
	if err == nil {
		err = setTimes(dir, tmp, hdr)
	}
	return place(dir, tmp, base, err)
}

// dirMeta gives a directory its archive owner, mode and times, through an
// fd opened without following a symlink, so a directory swapped for a
// link meanwhile (by a process in the container) is refused, not chmodded
// through.
func (u *unpacker) dirMeta(p string, hdr *tar.Header) error {
	d, base := path.Split(p)
	if d == "" {
		d = "."
	}
	dir, err := u.t.open(path.Clean(d), false)
	if err != nil {
		return fmt.Errorf("directory %s: %w", p, err)
	}
	defer unix.Close(dir)
	fd, err := unix.Openat(dir, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", p, err)
	}
	defer unix.Close(fd)
	if ids := u.owner(hdr); ids != nil {
		if err := unix.Fchown(fd, ids.UID, ids.GID); err != nil {
			return chownError(p, *ids, err)
		}
	}
	if err := unix.Fchmod(fd, mode(hdr)); err != nil {
		return fmt.Errorf("chmod %s: %w", p, err)
	}
	return setTimes(dir, base, hdr)
}

// mode is the permission bits with setuid, setgid and sticky.
func mode(hdr *tar.Header) uint32 { return uint32(hdr.Mode) & 0o7777 }

func setTimes(dir int, name string, hdr *tar.Header) error {
	ts := []unix.Timespec{
		{Nsec: unix.UTIME_OMIT},
		{Sec: hdr.ModTime.Unix(), Nsec: int64(hdr.ModTime.Nanosecond())},
	}
	if !hdr.AccessTime.IsZero() {
		ts[0] = unix.Timespec{Sec: hdr.AccessTime.Unix(), Nsec: int64(hdr.AccessTime.Nanosecond())}
	}
	if err := unix.UtimesNanoAt(dir, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", name, err)
	}
	return nil
}

func chownAt(dir int, name string, ids IDs) error {
	if err := unix.Fchownat(dir, name, ids.UID, ids.GID, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return chownError(name, ids, err)
	}
	return nil
}

// chownError says why a chown the caller asked for failed: EINVAL means
// the ids have no mapping in this user namespace.
func chownError(name string, ids IDs, err error) error {
	if errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("chown %s to %d:%d: %w (the ids are not mapped in this user namespace)", name, ids.UID, ids.GID, err)
	}
	return fmt.Errorf("chown %s to %d:%d: %w", name, ids.UID, ids.GID, err)
}

// chmodAt changes a mode without following a symlink where the kernel
// can (fchmodat2, Linux 6.6); before it, plain fchmodat, on a name this
// package just created.
func chmodAt(dir int, name string, m uint32) error {
	err := unix.Fchmodat(dir, name, m, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		err = unix.Fchmodat(dir, name, m, 0)
	}
	if err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}
