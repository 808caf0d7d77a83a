package layer

import (
	"bytes"
	"fmt"
)

// parse checks the mapped index completely — header, checksum, and every
// record against the sections and the tree's invariants — so that no later
// call can read out of range or loop, whatever the file holds. The checksum
// catches damage; the checks catch a well-sealed but hostile file.
func (l *Layer) parse() error {
	b := l.idx
	if string(b[hMagic:hMagic+8]) != idxMagic {
		return fmt.Errorf("bad magic %q: %w", b[hMagic:hMagic+8], ErrCorrupt)
	}
	if v := le.Uint32(b[hVersion:]); v != idxVersion {
		return fmt.Errorf("version %d, want %d: %w", v, idxVersion, ErrCorrupt)
	}
	if le.Uint32(b[hHdrSize:]) != hdrSize || le.Uint32(b[hRecSize:]) != recSize {
		return fmt.Errorf("header or record size: %w", ErrCorrupt)
	}
	if got, want := indexCRC(b), le.Uint32(b[hCRC:]); got != want {
		return fmt.Errorf("checksum %08x, header says %08x: %w", got, want, ErrCorrupt)
	}
	l.n = le.Uint32(b[hCount:])
	l.tsz = int64(le.Uint64(b[hTarSize:]))
	copy(l.sum[:], b[hDiffID:hDiffID+32])
	if l.n == 0 || l.n > maxEntries || l.tsz < 0 {
		return fmt.Errorf("%d entries, tar size %d: %w", l.n, l.tsz, ErrCorrupt)
	}
	var err error
	section := func(name string, off, count, size uint64) []byte {
		if err != nil {
			return nil
		}
		end := off + count*size
		if off%8 != 0 || off < hdrSize || off > uint64(len(b)) || count > uint64(len(b)) || end > uint64(len(b)) {
			err = fmt.Errorf("%s section %d+%d×%d outside the %d-byte file: %w", name, off, count, size, len(b), ErrCorrupt)
			return nil
		}
		return b[off:end:end]
	}
	l.ents = section("entry", le.Uint64(b[hEntriesOff:]), uint64(l.n), recSize)
	l.exts = section("extent", le.Uint64(b[hExtentsOff:]), uint64(le.Uint32(b[hExtentsCount:])), extSize)
	l.xats = section("xattr", le.Uint64(b[hXattrsOff:]), uint64(le.Uint32(b[hXattrsCount:])), xattrSize)
	if err != nil {
		return err
	}
	lo := le.Uint64(b[hLinksOff:])
	lc := uint64(le.Uint32(b[hLinksCount:]))
	if lo%4 != 0 || lo < hdrSize || lo > uint64(len(b)) || lc > uint64(len(b)) || lo+lc*linkSize > uint64(len(b)) {
		return fmt.Errorf("link section: %w", ErrCorrupt)
	}
	l.lnks = b[lo : lo+lc*linkSize : lo+lc*linkSize]
	l.strs = section("string", le.Uint64(b[hStringsOff:]), le.Uint64(b[hStringsLen:]), 1)
	if err != nil {
		return err
	}
	if err := l.checkXattrs(); err != nil {
		return err
	}
	if err := l.checkEntries(); err != nil {
		return err
	}
	return l.checkGroups()
}

// inStrs reports whether [off, off+n) lies within the string section.
func (l *Layer) inStrs(off uint64, n uint64) bool {
	s := uint64(len(l.strs))
	return off <= s && n <= s-off
}

func (l *Layer) checkXattrs() error {
	for i := 0; i < len(l.xats); i += xattrSize {
		x := l.xats[i : i+xattrSize]
		nl, vl := uint64(le.Uint32(x[xNameLen:])), uint64(le.Uint32(x[xValueLen:]))
		no, vo := le.Uint64(x[xNameOff:]), le.Uint64(x[xValueOff:])
		if nl == 0 || nl > maxXattrName || vl > maxXattrValue || !l.inStrs(no, nl) || !l.inStrs(vo, vl) ||
			bytes.IndexByte(l.strs[no:no+nl], 0) >= 0 {
			return fmt.Errorf("xattr record %d: %w", i/xattrSize, ErrCorrupt)
		}
	}
	return nil
}

func (l *Layer) checkEntries() error {
	for id := uint32(0); id < l.n; id++ {
		if why := l.checkEntry(id); why != "" {
			return fmt.Errorf("entry %d: %s: %w", id, why, ErrCorrupt)
		}
	}
	return nil
}

// checkEntry returns what is wrong with record id, or "".
func (l *Layer) checkEntry(id uint32) string {
	r := l.rec(ID(id))
	kind := Kind(r[eKind])
	flags := r[eFlags]
	switch {
	case !kind.valid() || flags&^fAll != 0:
		return "kind or flags"
	case flags&(fOpaque|fImplicit) != 0 && kind != KindDir || flags&fSparse != 0 && kind != KindReg:
		return "flags for kind"
	}
	if why := l.checkPlace(id, r, kind); why != "" {
		return why
	}
	if why := l.checkAttrs(r, kind); why != "" {
		return why
	}
	if err := l.checkExtents(r, kind, flags&fSparse != 0, int64(le.Uint64(r[eSize:]))); err != nil {
		return err.Error()
	}
	// Hardlink groups are checked whole in checkGroups.
	nlink, ino := le.Uint32(r[eNlink:]), le.Uint32(r[eInode:])
	nL := uint32(len(l.lnks) / linkSize)
	switch {
	case nlink == 0 || ino >= l.n:
		return "nlink or inode"
	case nlink == 1 && ino != id:
		return "single name with a foreign inode"
	case nlink > 1 && (kind == KindDir || kind == KindWhiteout):
		return "hardlinked directory or whiteout"
	case nlink > 1 && (le.Uint32(r[eLinksIdx:]) > nL || nlink > nL-le.Uint32(r[eLinksIdx:])):
		return "link group range"
	}
	return ""
}

// checkPlace checks id's place in the tree: its parent comes before it and
// lists it among its children, its own children lie after it, and its name
// is a valid one sorting after its previous sibling's.
func (l *Layer) checkPlace(id uint32, r []byte, kind Kind) string {
	parent := le.Uint32(r[eParent:])
	if id == 0 {
		if parent != 0 || kind != KindDir || le.Uint16(r[eNameLen:]) != 0 {
			return "root"
		}
	} else {
		if parent >= id {
			return "parent after child"
		}
		p := l.rec(ID(parent))
		f, c := le.Uint32(p[eFirstChild:]), le.Uint32(p[eNChildren:])
		if Kind(p[eKind]) != KindDir || id < f || id-f >= c {
			return "not among its parent's children"
		}
	}
	first, count := le.Uint32(r[eFirstChild:]), le.Uint32(r[eNChildren:])
	if kind != KindDir && (first != 0 || count != 0) {
		return "children of a non-directory"
	}
	if count > 0 && (first <= id || first > l.n || count > l.n-first) {
		return "child range"
	}
	nl, no := uint64(le.Uint16(r[eNameLen:])), le.Uint64(r[eNameOff:])
	if !l.inStrs(no, nl) {
		return "name outside strings"
	}
	if id == 0 {
		return ""
	}
	if !validName(l.str(no, nl)) {
		return "name"
	}
	// Siblings are consecutive IDs, so the previous ID with the same
	// parent is the previous sibling.
	if id > 1 && le.Uint32(l.rec(ID(id - 1))[eParent:]) == parent &&
		bytes.Compare(l.nameBytes(ID(id-1)), l.strs[no:no+nl]) >= 0 {
		return "children not sorted"
	}
	return ""
}

// checkAttrs checks a record's mode, times, size, symlink target, device
// number and xattr range.
func (l *Layer) checkAttrs(r []byte, kind Kind) string {
	if le.Uint32(r[eMode:]) > 0o7777 {
		return "mode"
	}
	for _, o := range []int{eMtimeNsec, eAtimeNsec, eCtimeNsec} {
		if le.Uint32(r[o:]) >= 1e9 {
			return "nanoseconds"
		}
	}
	size := int64(le.Uint64(r[eSize:]))
	if size < 0 || kind != KindReg && kind != KindSymlink && size != 0 {
		return "size"
	}
	ll, lo := uint64(le.Uint32(r[eLinkLen:])), le.Uint64(r[eLinkOff:])
	if kind == KindSymlink {
		if ll == 0 || ll > maxLinkLen || int64(ll) != size || !l.inStrs(lo, ll) || bytes.IndexByte(l.strs[lo:lo+ll], 0) >= 0 {
			return "symlink target"
		}
	} else if ll != 0 {
		return "target of a non-symlink"
	}
	if kind != KindChar && kind != KindBlock && le.Uint64(r[eRdev:]) != 0 {
		return "rdev of a non-device"
	}
	nX := uint32(len(l.xats) / xattrSize)
	if xi, xn := le.Uint32(r[eXattrIdx:]), le.Uint32(r[eXattrN:]); xi > nX || xn > nX-xi {
		return "xattr range"
	}
	return ""
}

// checkExtents checks a regular file's data: in order, within its size and
// within the tar; one extent covering all of it unless it is sparse.
func (l *Layer) checkExtents(r []byte, kind Kind, sparse bool, size int64) error {
	nExt := uint32(len(l.exts) / extSize)
	ei, en := le.Uint32(r[eExtIdx:]), le.Uint32(r[eExtN:])
	if kind != KindReg {
		if en != 0 {
			return fmt.Errorf("extents of a non-file")
		}
		return nil
	}
	if ei > nExt || en > nExt-ei {
		return fmt.Errorf("extent range")
	}
	if !sparse && (size == 0 && en != 0 || size > 0 && en != 1) {
		return fmt.Errorf("%d extents for a %d-byte file", en, size)
	}
	var prevEnd int64
	for i := ei; i < ei+en; i++ {
		e := l.extent(i)
		if e.Len <= 0 || e.Off < prevEnd || e.Off > size-e.Len || e.TarOff < 0 || e.TarOff > l.tsz-e.Len {
			return fmt.Errorf("extent %d %+v", i, e)
		}
		if !sparse && (e.Off != 0 || e.Len != size) {
			return fmt.Errorf("extent of a non-sparse file")
		}
		prevEnd = e.Off + e.Len
	}
	return nil
}

// checkGroups checks hardlink groups from their leaders (the smallest ID,
// which every member names as its inode): members listed ascending, each
// agreeing on the group, and every entry with nlink > 1 listed exactly once.
func (l *Layer) checkGroups() error {
	var inGroups, linked uint64
	for id := uint32(0); id < l.n; id++ {
		r := l.rec(ID(id))
		nlink := le.Uint32(r[eNlink:])
		if nlink <= 1 {
			continue
		}
		linked++
		if le.Uint32(r[eInode:]) != id {
			continue
		}
		at := le.Uint32(r[eLinksIdx:])
		prev := int64(-1)
		for k := uint32(0); k < nlink; k++ {
			m := le.Uint32(l.lnks[(at+k)*linkSize:])
			if int64(m) <= prev || m >= l.n {
				return fmt.Errorf("link group of %d: member %d: %w", id, m, ErrCorrupt)
			}
			mr := l.rec(ID(m))
			if le.Uint32(mr[eInode:]) != id || le.Uint32(mr[eNlink:]) != nlink || le.Uint32(mr[eLinksIdx:]) != at ||
				mr[eKind] != r[eKind] {
				return fmt.Errorf("link group of %d: member %d disagrees: %w", id, m, ErrCorrupt)
			}
			prev = int64(m)
		}
		if k0 := le.Uint32(l.lnks[at*linkSize:]); k0 != id {
			return fmt.Errorf("link group of %d starts with %d: %w", id, k0, ErrCorrupt)
		}
		inGroups += uint64(nlink)
	}
	if inGroups != linked {
		return fmt.Errorf("%d hardlinked entries, %d in groups: %w", linked, inGroups, ErrCorrupt)
	}
	return nil
}
