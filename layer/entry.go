package layer

import (
	"archive/tar"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const (
	maxXattrName  = 255      // XATTR_NAME_MAX
	maxXattrValue = 64 << 10 // XATTR_SIZE_MAX
	xattrPrefix   = "SCHILY.xattr."
)

// entryOf converts a tar header into what the builder takes. ok is false
// for an entry the index refuses (counted as dropped); skip is true for a
// header that is no entry at all (a PAX global header).
func entryOf(h *tar.Header) (e tarEntry, ok, skip bool) {
	known := true
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		e.kind = KindReg
	case tar.TypeLink:
		e.link = true
	case tar.TypeSymlink:
		e.kind = KindSymlink
	case tar.TypeChar:
		e.kind = KindChar
	case tar.TypeBlock:
		e.kind = KindBlock
	case tar.TypeDir, 'D': // 'D': a GNU dump directory, extracted as a directory
		e.kind = KindDir
	case tar.TypeFifo:
		e.kind = KindFifo
	case tar.TypeXGlobalHeader:
		return e, false, true
	default:
		known = false // volume labels, multi-volume parts, vendor types
	}
	var clean bool
	if e.path, clean = cleanName(h.Name); !clean {
		return e, false, false
	}
	if _, base := splitDir(e.path); strings.HasPrefix(base, whPrefix) {
		// A whiteout is its name alone, whatever type and attributes its
		// header has, as containerd applies it.
		return tarEntry{path: e.path}, true, false
	}
	if !known {
		return e, false, false
	}
	if e.link {
		if e.target, clean = cleanName(h.Linkname); !clean || e.target == "" {
			return e, false, false
		}
	}
	in := &e.in
	if !idOK(h.Uid) || !idOK(h.Gid) {
		return e, false, false
	}
	in.uid, in.gid = uint32(h.Uid), uint32(h.Gid)
	in.mode = uint32(h.Mode) & 0o7777
	in.mtime = timespec(h.ModTime)
	in.atime, in.ctime = in.mtime, in.mtime
	if !h.AccessTime.IsZero() {
		in.atime = timespec(h.AccessTime)
	}
	if !h.ChangeTime.IsZero() {
		in.ctime = timespec(h.ChangeTime)
	}
	switch e.kind {
	case KindReg:
		in.size = h.Size
	case KindSymlink:
		if h.Linkname == "" || len(h.Linkname) > maxLinkLen || strings.IndexByte(h.Linkname, 0) >= 0 {
			return e, false, false
		}
		in.link = h.Linkname
		in.size = int64(len(h.Linkname))
	case KindChar, KindBlock:
		if h.Devmajor < 0 || h.Devmajor > math.MaxUint32 || h.Devminor < 0 || h.Devminor > math.MaxUint32 {
			return e, false, false
		}
		in.rdev = unix.Mkdev(uint32(h.Devmajor), uint32(h.Devminor))
	}
	in.xattrs = xattrsOf(h.PAXRecords)
	return e, true, false
}

// idOK accepts ids chown(2) can set: -1 (0xffffffff) means "unchanged" there.
func idOK(id int) bool { return id >= 0 && int64(id) < math.MaxUint32 }

func timespec(t time.Time) Timespec {
	return Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// xattrsOf collects SCHILY.xattr.* records, sorted by name. Attributes the
// kernel could not hold (name over 255 bytes, value over 64 KiB, NUL in the
// name) are left out.
func xattrsOf(recs map[string]string) []xattr {
	var xs []xattr
	for k, v := range recs {
		name, ok := strings.CutPrefix(k, xattrPrefix)
		if !ok || name == "" || len(name) > maxXattrName || strings.IndexByte(name, 0) >= 0 || len(v) > maxXattrValue {
			continue
		}
		xs = append(xs, xattr{name, v})
	}
	slices.SortFunc(xs, func(a, b xattr) int { return strings.Compare(a.name, b.name) })
	return xs
}
