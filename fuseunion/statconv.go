package fuseunion

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// stat2syscall views a unix.Stat_t as the identical syscall.Stat_t that
// go-fuse's Attr.FromStat takes.
func stat2syscall(st *unix.Stat_t) *syscall.Stat_t {
	return (*syscall.Stat_t)(unsafe.Pointer(st))
}

var _ = [1]struct{}{}[unsafe.Sizeof(unix.Stat_t{})-unsafe.Sizeof(syscall.Stat_t{})]
