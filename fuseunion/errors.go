package fuseunion

import "syscall"

var (
	// errNameTooLong: FUSE does not check name lengths; the union does, as
	// a kernel filesystem would.
	errNameTooLong = syscall.ENAMETOOLONG
	// errReservedName refuses names that would read as whiteouts in the
	// upper, as overlayfs refuses to create 0:0 character devices.
	errReservedName = syscall.EPERM
)
