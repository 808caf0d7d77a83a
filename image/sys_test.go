package image

import (
	"os"
	"strconv"
	"syscall"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
