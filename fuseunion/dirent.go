package fuseunion

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readDirents calls fn for every entry of the open directory fd except "."
// and "..", with the entry's d_type and d_ino.
func readDirents(fd int, fn func(name string, typ uint8, ino uint64)) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				return unix.EIO
			}
			ino := *(*uint64)(unsafe.Pointer(&b[0]))
			typ := b[18]
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if s := string(name); s != "." && s != ".." {
				fn(s, typ, ino)
			}
			b = b[reclen:]
		}
	}
}

// kindOfDT maps a d_type to a kind; kindNone for DT_UNKNOWN.
func kindOfDT(typ uint8) kind {
	switch typ {
	case unix.DT_DIR:
		return kindDir
	case unix.DT_REG:
		return kindReg
	case unix.DT_LNK:
		return kindSymlink
	case unix.DT_CHR:
		return kindChar
	case unix.DT_BLK:
		return kindBlock
	case unix.DT_FIFO:
		return kindFifo
	case unix.DT_SOCK:
		return kindSocket
	}
	return kindNone
}
