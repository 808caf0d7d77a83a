package layer

import "hash/crc32"

// The index layout; doc.go describes it for readers. All integers are
// little-endian; every section starts 8-byte aligned.

const (
	idxMagic   = "NOOKIDX\x00"
	idxVersion = 1

	// Header fields.
	hdrSize       = 128
	hMagic        = 0   // [8]byte
	hVersion      = 8   // u32
	hHdrSize      = 12  // u32
	hCount        = 16  // u32 entries
	hRecSize      = 20  // u32 entry record size
	hTarSize      = 24  // u64
	hDiffID       = 32  // [32]byte sha256 of the tar
	hEntriesOff   = 64  // u64
	hExtentsOff   = 72  // u64
	hExtentsCount = 80  // u32
	hXattrsCount  = 84  // u32
	hXattrsOff    = 88  // u64
	hLinksOff     = 96  // u64
	hLinksCount   = 104 // u32
	hCRC          = 108 // u32 crc32c of the whole file, this field taken as 0
	hStringsOff   = 112 // u64
	hStringsLen   = 120 // u64

	// Entry record fields.
	recSize     = 128
	eParent     = 0   // u32 ID
	eFirstChild = 4   // u32 ID (dirs)
	eNChildren  = 8   // u32 (dirs)
	eKind       = 12  // u8
	eFlags      = 13  // u8
	eNameLen    = 14  // u16
	eNameOff    = 16  // u64 into strings
	eMode       = 24  // u32
	eUid        = 28  // u32
	eGid        = 32  // u32
	eNlink      = 36  // u32
	eInode      = 40  // u32 ID
	eLinksIdx   = 44  // u32 index into links (when nlink > 1)
	eSize       = 48  // i64
	eMtimeSec   = 56  // i64
	eAtimeSec   = 64  // i64
	eCtimeSec   = 72  // i64
	eMtimeNsec  = 80  // u32
	eAtimeNsec  = 84  // u32
	eCtimeNsec  = 88  // u32
	eLinkLen    = 92  // u32 symlink target length
	eLinkOff    = 96  // u64 into strings
	eRdev       = 104 // u64
	eXattrIdx   = 112 // u32 first xattr record
	eXattrN     = 116 // u32
	eExtIdx     = 120 // u32 first extent record
	eExtN       = 124 // u32

	// Entry flags.
	fOpaque   = 1
	fSparse   = 2
	fImplicit = 4
	fAll      = fOpaque | fSparse | fImplicit

	// Extent record: Off, TarOff, Len as i64, the layout of Extent.
	extSize = 24

	// Xattr record.
	xattrSize = 24
	xNameOff  = 0  // u64
	xValueOff = 8  // u64
	xNameLen  = 16 // u32
	xValueLen = 20 // u32

	linkSize = 4 // u32 ID
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// indexCRC is the checksum stored at hCRC: crc32c of the file with the
// checksum field read as zero.
func indexCRC(b []byte) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, b[:hCRC])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, b[hCRC+4:])
}
