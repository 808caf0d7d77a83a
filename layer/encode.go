package layer

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

var le = binary.LittleEndian

// encode lays the live tree out as an index (see doc.go). IDs are given
// breadth-first with each directory's children sorted bytewise, so children
// are contiguous and every child's ID is greater than its parent's.
func (b *builder) encode(tarSize int64, sum []byte) ([]byte, error) {
	t := b.order()
	n := len(t.order)
	e := encoder{
		b:      b,
		recs:   make([]byte, n*recSize),
		xnames: map[string]uint64{},
		groups: make([]group, len(b.inodes)),
	}
	for id, ni := range t.order {
		if err := e.entry(id, ni, &t); err != nil {
			return nil, err
		}
	}
	for ino, g := range e.groups {
		if g.seen && g.names != b.inodes[ino].nlink {
			return nil, fmt.Errorf("encode index: inode %d has %d names, counted %d", ino, g.names, b.inodes[ino].nlink)
		}
	}
	if len(e.exts) > maxExtents {
		return nil, fmt.Errorf("%d data extents, more than %d: %w", len(e.exts), maxExtents, ErrLimit)
	}
	if len(e.xrecs)/xattrSize > math.MaxUint32 || len(e.links) > math.MaxUint32 {
		return nil, fmt.Errorf("encode index: too many xattrs or links: %w", ErrLimit)
	}
	return assemble(e.recs, e.exts, e.xrecs, e.links, e.strs.String(), n, tarSize, sum), nil
}

// encoder accumulates the sections while entries are laid out.
type encoder struct {
	b      *builder
	recs   []byte
	strs   strings.Builder
	exts   []Extent
	xrecs  []byte
	links  []uint32
	xnames map[string]uint64
	groups []group // by inode
}

// group is where an inode's shared parts went, set at its first (smallest) ID.
type group struct {
	seen            bool
	lead            uint32
	linkAt, extAt   uint32
	xattrAt, xattrN uint32
	names           int32
}

func (e *encoder) str(s string) uint64 {
	off := uint64(e.strs.Len())
	e.strs.WriteString(s)
	return off
}

func (e *encoder) entry(id int, ni int32, t *tree) error {
	nd := &e.b.nodes[ni]
	in := &e.b.inodes[nd.ino]
	r := e.recs[id*recSize : (id+1)*recSize]
	le.PutUint32(r[eParent:], t.parent[id])
	le.PutUint32(r[eFirstChild:], t.first[id])
	le.PutUint32(r[eNChildren:], t.count[id])
	r[eKind] = byte(nd.kind)
	var flags byte
	if nd.opaque {
		flags |= fOpaque
	}
	if nd.implicit {
		flags |= fImplicit
	}
	if in.sparse && nd.kind == KindReg {
		flags |= fSparse
	}
	r[eFlags] = flags
	le.PutUint16(r[eNameLen:], uint16(len(nd.name)))
	le.PutUint64(r[eNameOff:], e.str(nd.name))
	le.PutUint32(r[eMode:], in.mode)
	le.PutUint32(r[eUid:], in.uid)
	le.PutUint32(r[eGid:], in.gid)
	putTime(r[eMtimeSec:], r[eMtimeNsec:], in.mtime)
	putTime(r[eAtimeSec:], r[eAtimeNsec:], in.atime)
	putTime(r[eCtimeSec:], r[eCtimeNsec:], in.ctime)

	// Directories and whiteouts are never hardlinked, and directories made
	// implicitly share inode 0: they are their own group.
	g := &group{}
	if nd.kind != KindDir && nd.kind != KindWhiteout {
		g = &e.groups[nd.ino]
	}
	if !g.seen {
		g.seen = true
		g.lead = uint32(id)
		g.linkAt = uint32(len(e.links))
		if in.nlink > 1 && nd.kind != KindDir && nd.kind != KindWhiteout {
			e.links = append(e.links, make([]uint32, in.nlink)...)
		}
		g.extAt = uint32(len(e.exts))
		if nd.kind == KindReg {
			e.exts = append(e.exts, e.b.exts[in.extOff:in.extOff+in.extN]...)
		}
		g.xattrAt = uint32(len(e.xrecs) / xattrSize)
		g.xattrN = uint32(len(in.xattrs))
		e.xrecs = e.appendXattrs(e.xrecs, in.xattrs)
	}
	g.names++
	nlink := uint32(1)
	if nd.kind != KindDir && nd.kind != KindWhiteout {
		nlink = uint32(in.nlink)
	}
	if nlink > 1 {
		if uint32(g.names) > nlink {
			return fmt.Errorf("encode index: inode %d has more names than its count %d", nd.ino, nlink)
		}
		e.links[g.linkAt+uint32(g.names)-1] = uint32(id)
		le.PutUint32(r[eLinksIdx:], g.linkAt)
	}
	le.PutUint32(r[eNlink:], nlink)
	le.PutUint32(r[eInode:], g.lead)
	le.PutUint32(r[eXattrIdx:], g.xattrAt)
	le.PutUint32(r[eXattrN:], g.xattrN)
	le.PutUint32(r[eExtIdx:], g.extAt)
	switch nd.kind {
	case KindReg:
		le.PutUint32(r[eExtN:], uint32(in.extN))
		le.PutUint64(r[eSize:], uint64(in.size))
	case KindSymlink:
		le.PutUint64(r[eSize:], uint64(in.size))
		le.PutUint32(r[eLinkLen:], uint32(len(in.link)))
		le.PutUint64(r[eLinkOff:], e.str(in.link))
	case KindChar, KindBlock:
		le.PutUint64(r[eRdev:], in.rdev)
	}
	return nil
}

// tree is the ID order of the live nodes.
type tree struct {
	order                []int32 // node index by ID
	parent, first, count []uint32
}

// order lists node indexes by ID, breadth-first with sorted children, with
// each ID's parent, first child and child count.
func (b *builder) order() tree {
	t := tree{
		order:  make([]int32, 1, b.live),
		parent: make([]uint32, 1, b.live),
	}
	t.first = make([]uint32, 0, b.live)
	t.count = make([]uint32, 0, b.live)
	var kids []int32
	for i := 0; i < len(t.order); i++ {
		nd := &b.nodes[t.order[i]]
		kids = kids[:0]
		for _, c := range nd.children {
			if !b.nodes[c].dead {
				kids = append(kids, c)
			}
		}
		slices.SortFunc(kids, func(x, y int32) int { return strings.Compare(b.nodes[x].name, b.nodes[y].name) })
		f := uint32(0)
		if len(kids) > 0 {
			f = uint32(len(t.order))
		}
		t.first = append(t.first, f)
		t.count = append(t.count, uint32(len(kids)))
		t.order = append(t.order, kids...)
		for range kids {
			t.parent = append(t.parent, uint32(i))
		}
	}
	return t
}

func putTime(sec, nsec []byte, t Timespec) {
	le.PutUint64(sec, uint64(t.Sec))
	le.PutUint32(nsec, uint32(t.Nsec))
}

func (e *encoder) appendXattrs(xrecs []byte, xs []xattr) []byte {
	for _, x := range xs {
		off, ok := e.xnames[x.name]
		if !ok {
			off = e.str(x.name)
			e.xnames[x.name] = off
		}
		var rec [xattrSize]byte
		le.PutUint64(rec[xNameOff:], off)
		le.PutUint64(rec[xValueOff:], e.str(x.value))
		le.PutUint32(rec[xNameLen:], uint32(len(x.name)))
		le.PutUint32(rec[xValueLen:], uint32(len(x.value)))
		xrecs = append(xrecs, rec[:]...)
	}
	return xrecs
}

func align8(n int) int { return (n + 7) &^ 7 }

// assemble joins the header and sections and seals them with the checksum.
func assemble(recs []byte, exts []Extent, xrecs []byte, links []uint32, strs string, n int, tarSize int64, sum []byte) []byte {
	entriesOff := hdrSize
	extentsOff := entriesOff + len(recs)
	xattrsOff := extentsOff + len(exts)*extSize
	linksOff := xattrsOff + len(xrecs)
	stringsOff := align8(linksOff + len(links)*linkSize)
	total := stringsOff + len(strs)

	out := make([]byte, total)
	copy(out[hMagic:], idxMagic)
	le.PutUint32(out[hVersion:], idxVersion)
	le.PutUint32(out[hHdrSize:], hdrSize)
	le.PutUint32(out[hCount:], uint32(n))
	le.PutUint32(out[hRecSize:], recSize)
	le.PutUint64(out[hTarSize:], uint64(tarSize))
	copy(out[hDiffID:hDiffID+32], sum)
	le.PutUint64(out[hEntriesOff:], uint64(entriesOff))
	le.PutUint64(out[hExtentsOff:], uint64(extentsOff))
	le.PutUint32(out[hExtentsCount:], uint32(len(exts)))
	le.PutUint32(out[hXattrsCount:], uint32(len(xrecs)/xattrSize))
	le.PutUint64(out[hXattrsOff:], uint64(xattrsOff))
	le.PutUint64(out[hLinksOff:], uint64(linksOff))
	le.PutUint32(out[hLinksCount:], uint32(len(links)))
	le.PutUint64(out[hStringsOff:], uint64(stringsOff))
	le.PutUint64(out[hStringsLen:], uint64(len(strs)))

	copy(out[entriesOff:], recs)
	for i, e := range exts {
		x := out[extentsOff+i*extSize:]
		le.PutUint64(x[0:], uint64(e.Off))
		le.PutUint64(x[8:], uint64(e.TarOff))
		le.PutUint64(x[16:], uint64(e.Len))
	}
	copy(out[xattrsOff:], xrecs)
	for i, id := range links {
		le.PutUint32(out[linksOff+i*linkSize:], id)
	}
	copy(out[stringsOff:], strs)
	le.PutUint32(out[hCRC:], indexCRC(out))
	return out
}
