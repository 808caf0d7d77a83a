package int80

// Syscall makes i386 system call nr with up to five arguments (in ebx,
// ecx, edx, esi, edi) and returns eax: a result, or -errno.
func Syscall(nr, a1, a2, a3, a4, a5 uint32) int32 {
	return int32(uint32(syscall5(uintptr(nr), uintptr(a1), uintptr(a2), uintptr(a3), uintptr(a4), uintptr(a5))))
}

func syscall5(nr, a1, a2, a3, a4, a5 uintptr) uintptr
