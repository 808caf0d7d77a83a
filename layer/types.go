package layer

// ID is an entry of a layer's index. IDs are dense (0..Len()-1) and assigned
// breadth-first, so every directory's children are contiguous and every
// child's ID is greater than its parent's.
type ID uint32

// Root is the layer's root directory; it is always present.
const Root ID = 0

// Kind is the type of an entry.
type Kind uint8

// The kinds of entry. KindWhiteout is an OCI whiteout (".wh.NAME"), stored
// under NAME.
const (
	KindDir Kind = iota + 1
	KindReg
	KindSymlink
	KindChar
	KindBlock
	KindFifo
	KindSocket
	KindWhiteout
)

var kindNames = [...]string{"invalid", "dir", "reg", "symlink", "char", "block", "fifo", "socket", "whiteout"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

func (k Kind) valid() bool { return k >= KindDir && k <= KindWhiteout }

// Timespec is a time as the kernel holds it.
type Timespec struct {
	Sec, Nsec int64
}

// Entry is one name in the layer, filled by Layer.Entry. Its strings alias the
// layer's mapped index and are valid until Layer.Close.
type Entry struct {
	Name   string // base name ("" for Root)
	Kind   Kind   // KindWhiteout: the layer had ".wh.Name" in this dir (hides Name in lower layers)
	Opaque bool   // a dir whose lower-layer contents are hidden (".wh..wh..opq", or a whiteout of its own name, in this layer)
	Mode   uint32 // permission bits incl. setuid/setgid/sticky (07777), no type bits
	Uid    uint32
	Gid    uint32
	// Size is the logical size: the full size of a sparse file, the target
	// length of a symlink, 0 for other kinds.
	Size                int64
	Mtime, Atime, Ctime Timespec // Atime/Ctime = Mtime when the tar has none
	Rdev                uint64   // unix.Mkdev(major, minor) for char/block
	Link                string   // symlink target
	Nlink               uint32   // number of names in this layer sharing this file's data (1 for most)
	Inode               ID       // identity of the data: the smallest ID of the hardlink group
	Sparse              bool
	// Implicit marks a directory the tar never described: a parent
	// synthesised (0755 root:root, time 0) for a deeper name or a whiteout.
	// A union should prefer a lower layer's metadata for it, as extraction
	// onto the lower layers would have kept theirs.
	Implicit bool
}

// Extent is a run of a file's data: Len bytes at logical offset Off are
// stored at TarOff in the layer's tar.
type Extent struct {
	Off, TarOff, Len int64
}

// Info describes a layer Create wrote.
type Info struct {
	DiffID  string // "sha256:<hex>" of the uncompressed stream
	Size    int64  // bytes of the uncompressed stream (the .tar)
	Entries int    // entries in the index, Root and synthesised parents included
	Dropped int    // tar entries dropped deliberately (see the package doc)
}
