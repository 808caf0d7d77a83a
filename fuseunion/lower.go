package fuseunion

import (
	"golang.org/x/sys/unix"
)

// Lower is one read-only layer of the union. Two kinds exist: an indexed
// layer tar (OpenTarLower) and a plain host directory (OpenDirLower). The
// interface is sealed: the union relies on both kinds' exact semantics.
type Lower interface {
	// Close releases the layer's files.
	Close() error

	root() (lref, lentry, error)
	// lookup finds name in directory dir. A missing name is ENOENT; a
	// whiteout is returned as an entry of kind kindWhiteout.
	lookup(dir lref, name string) (lref, lentry, error)
	// readdir calls fn for each entry of dir, whiteouts included (as
	// kindWhiteout), markers excluded.
	readdir(dir lref, fn func(name string, k kind, ident uint64)) error
	readlink(ref lref) (string, error)
	open(ref lref, e *lentry) (*lowerFile, error)
	listxattr(ref lref, e *lentry) ([]string, error)
	getxattr(ref lref, e *lentry, name string) ([]byte, error)
	// links returns the layer paths of every name that shares ref's data
	// (its hardlink group, ref included).
	links(ref lref, e *lentry) ([]string, error)
	// hostFd is an fd on the host filesystem holding the layer.
	hostFd() int
	// resolve finds a layer path, as lookup does one name at a time.
	resolve(path string) (lref, lentry, error)
}

// kind is an entry's file type as the union sees it.
type kind uint8

const (
	kindNone kind = iota
	kindDir
	kindReg
	kindSymlink
	kindChar
	kindBlock
	kindFifo
	kindSocket
	kindWhiteout
)

// kindOf maps a host S_IFMT mode to a kind.
func kindOf(mode uint32) kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return kindDir
	case unix.S_IFREG:
		return kindReg
	case unix.S_IFLNK:
		return kindSymlink
	case unix.S_IFCHR:
		return kindChar
	case unix.S_IFBLK:
		return kindBlock
	case unix.S_IFIFO:
		return kindFifo
	case unix.S_IFSOCK:
		return kindSocket
	}
	return kindNone
}

// typeBits maps a kind to S_IFMT bits.
func (k kind) typeBits() uint32 {
	switch k {
	case kindDir:
		return unix.S_IFDIR
	case kindReg:
		return unix.S_IFREG
	case kindSymlink:
		return unix.S_IFLNK
	case kindChar:
		return unix.S_IFCHR
	case kindBlock:
		return unix.S_IFBLK
	case kindFifo:
		return unix.S_IFIFO
	case kindSocket:
		return unix.S_IFSOCK
	}
	return 0
}

// lref locates an entry inside one lower: an index entry id for tars, a
// layer-relative path for directories.
type lref struct {
	id   uint32
	path string
}

// lentry is a lower entry's metadata, as the layer states it.
type lentry struct {
	kind                kind
	opaque              bool
	implicit            bool   // a directory the layer never described
	mode                uint32 // permission bits, 07777
	uid, gid            uint32
	size                int64
	atime, mtime, ctime unix.Timespec
	rdev                uint64
	nlink               uint32
	ident               uint64 // identity of the data within the layer
	blocks              int64
}
