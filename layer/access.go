package layer

import (
	"strings"
	"unsafe"
)

// The accessors are the union's hot path: no allocation, no locks. Every one
// takes any ID; an ID out of range reads as nothing (no entry, no children),
// never as a panic.

func (l *Layer) rec(id ID) []byte {
	o := int(id) * recSize
	return l.ents[o : o+recSize : o+recSize]
}

func (l *Layer) ok(id ID) bool { return uint32(id) < l.n }

// str returns the string section's bytes [off, off+n) as a string aliasing
// the mapping (checked at Open).
func (l *Layer) str(off uint64, n uint64) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&l.strs[off], int(n))
}

func (l *Layer) nameBytes(id ID) []byte {
	r := l.rec(id)
	off, n := le.Uint64(r[eNameOff:]), uint64(le.Uint16(r[eNameLen:]))
	return l.strs[off : off+n]
}

func (l *Layer) name(id ID) string {
	r := l.rec(id)
	return l.str(le.Uint64(r[eNameOff:]), uint64(le.Uint16(r[eNameLen:])))
}

// Lookup finds name among dir's children by binary search.
func (l *Layer) Lookup(dir ID, name string) (ID, bool) {
	first, n := l.Children(dir)
	lo, hi := uint32(first), uint32(first)+uint32(n)
	for lo < hi {
		mid := lo + (hi-lo)/2
		switch c := strings.Compare(l.name(ID(mid)), name); {
		case c == 0:
			return ID(mid), true
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, false
}

// Children returns dir's children: IDs first to first+n-1, sorted bytewise
// by name. n is 0 for a non-directory.
func (l *Layer) Children(dir ID) (first ID, n int) {
	if !l.ok(dir) {
		return 0, 0
	}
	r := l.rec(dir)
	return ID(le.Uint32(r[eFirstChild:])), int(le.Uint32(r[eNChildren:]))
}

// Parent returns id's directory; Root's parent is Root.
func (l *Layer) Parent(id ID) ID {
	if !l.ok(id) {
		return Root
	}
	return ID(le.Uint32(l.rec(id)[eParent:]))
}

// Entry fills e with id's name and attributes. An ID out of range fills the
// zero Entry.
func (l *Layer) Entry(id ID, e *Entry) {
	if !l.ok(id) {
		*e = Entry{}
		return
	}
	r := l.rec(id)
	flags := r[eFlags]
	*e = Entry{
		Name:     l.str(le.Uint64(r[eNameOff:]), uint64(le.Uint16(r[eNameLen:]))),
		Kind:     Kind(r[eKind]),
		Opaque:   flags&fOpaque != 0,
		Mode:     le.Uint32(r[eMode:]),
		Uid:      le.Uint32(r[eUid:]),
		Gid:      le.Uint32(r[eGid:]),
		Size:     int64(le.Uint64(r[eSize:])),
		Mtime:    Timespec{int64(le.Uint64(r[eMtimeSec:])), int64(le.Uint32(r[eMtimeNsec:]))},
		Atime:    Timespec{int64(le.Uint64(r[eAtimeSec:])), int64(le.Uint32(r[eAtimeNsec:]))},
		Ctime:    Timespec{int64(le.Uint64(r[eCtimeSec:])), int64(le.Uint32(r[eCtimeNsec:]))},
		Rdev:     le.Uint64(r[eRdev:]),
		Link:     l.str(le.Uint64(r[eLinkOff:]), uint64(le.Uint32(r[eLinkLen:]))),
		Nlink:    le.Uint32(r[eNlink:]),
		Inode:    ID(le.Uint32(r[eInode:])),
		Sparse:   flags&fSparse != 0,
		Implicit: flags&fImplicit != 0,
	}
}

// Path returns id's path from the root ("usr/bin/ls"; "" for Root), for
// messages.
func (l *Layer) Path(id ID) string {
	if !l.ok(id) || id == Root {
		return ""
	}
	// Parents have smaller IDs (checked at Open), so this ends.
	var parts []string
	for ; id != Root; id = l.Parent(id) {
		parts = append(parts, l.name(id))
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	return b.String()
}

// Xattrs calls fn for each of id's extended attributes (security.capability
// included), sorted by name. value aliases the mapping: copy it to keep it
// past Close, and never write to it.
func (l *Layer) Xattrs(id ID, fn func(name string, value []byte)) {
	if !l.ok(id) {
		return
	}
	r := l.rec(id)
	at, n := le.Uint32(r[eXattrIdx:]), le.Uint32(r[eXattrN:])
	for i := at; i < at+n; i++ {
		x := l.xats[int(i)*xattrSize:]
		no, nl := le.Uint64(x[xNameOff:]), uint64(le.Uint32(x[xNameLen:]))
		vo, vl := le.Uint64(x[xValueOff:]), uint64(le.Uint32(x[xValueLen:]))
		fn(l.str(no, nl), l.strs[vo:vo+vl:vo+vl])
	}
}

// Links returns every name in this layer that shares id's data (its
// hardlink group, id included), ascending. The slice is read-only.
func (l *Layer) Links(id ID) []ID {
	if !l.ok(id) {
		return nil
	}
	r := l.rec(id)
	nlink := le.Uint32(r[eNlink:])
	if nlink <= 1 {
		return []ID{id}
	}
	at := int(le.Uint32(r[eLinksIdx:])) * linkSize
	b := l.lnks[at : at+int(nlink)*linkSize]
	if littleEndian {
		return unsafe.Slice((*ID)(unsafe.Pointer(&b[0])), nlink)
	}
	out := make([]ID, nlink)
	for i := range out {
		out[i] = ID(le.Uint32(b[i*linkSize:]))
	}
	return out
}

// littleEndian reports whether the host's byte order is the index's, so
// sections can be handed out as typed slices of the mapping.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
