package userns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nookrun/nook/userns/internal/int80"
)

// i386 system call numbers (zsysnum_linux_386.go).
const (
	i386Getpid     = 20
	i386Setuid     = 23
	i386Fchown     = 95
	i386Chown      = 182
	i386Lchown32   = 198
	i386Getuid32   = 199
	i386Setgroups  = 206
	i386Fchown32   = 207
	i386Setresuid  = 208
	i386Chown32    = 212
	i386Setuid32   = 213
	i386Setgid32   = 214
	i386Setfsuid32 = 215
	i386Fchownat   = 298
)

// archCalls are amd64's own: chown and lchown, x32 calls (the x86_64
// numbers with __X32_SYSCALL_BIT), and with i386 set, i386 calls through
// int $0x80. Pointers for i386 calls live in memory below 4 GiB.
func archCalls(path string, fd int, i386 bool) []call {
	p, _ := unix.BytePtrFromString(path)
	raw := func(nr uintptr, a ...uintptr) func() string {
		return func() string {
			r, _, e := unix.Syscall(nr, a[0], a[1], a[2])
			return errnoResult(r, e)
		}
	}
	calls := []call{
		{"chown", func() string {
			r, _, e := unix.Syscall(unix.SYS_CHOWN, uintptr(unsafe.Pointer(p)), 1000, 1000)
			return errnoResult(r, e)
		}},
		{"lchown", func() string {
			r, _, e := unix.Syscall(unix.SYS_LCHOWN, uintptr(unsafe.Pointer(p)), 1000, 1000)
			return errnoResult(r, e)
		}},
		{"x32 fchown", raw(x32SyscallBit|unix.SYS_FCHOWN, uintptr(fd), 1000, 1000)},
		{"x32 setuid", raw(x32SyscallBit|unix.SYS_SETUID, 1000, 0, 0)},
		{"x32 getpid", raw(x32SyscallBit|unix.SYS_GETPID, 0, 0, 0)},
	}
	if !i386 {
		return calls
	}
	low, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_32BIT)
	if err != nil {
		return append(calls, call{"i386 memory", func() string { return err.Error() }})
	}
	copy(low, path+"\x00")
	lowPath := uint32(uintptr(unsafe.Pointer(&low[0]))) // mmap'd: the GC neither moves nor frees it
	lowGroups := lowPath + 2048
	copy(low[2048:], []byte{0xe8, 0x03, 0, 0}) // 1000, little-endian
	i := func(nr uint32, a ...uint32) func() string {
		a = append(a, 0, 0, 0, 0, 0)
		return func() string {
			r := int80.Syscall(nr, a[0], a[1], a[2], a[3], a[4])
			if r < 0 {
				return unix.ErrnoName(unix.Errno(-r))
			}
			return strconv.Itoa(int(r))
		}
	}
	atFDCWD := uint32(0xffffff9c) // -100
	return append(calls,
		call{"i386 fchown", i(i386Fchown, uint32(fd), 1000, 1000)},
		call{"i386 fchown32", i(i386Fchown32, uint32(fd), 1000, 1000)},
		call{"i386 chown", i(i386Chown, lowPath, 1000, 1000)},
		call{"i386 chown32", i(i386Chown32, lowPath, 1000, 1000)},
		call{"i386 lchown32", i(i386Lchown32, lowPath, 1000, 1000)},
		call{"i386 fchownat", i(i386Fchownat, atFDCWD, lowPath, 1000, 1000, 0)},
		call{"i386 setuid", i(i386Setuid, 1000)},
		call{"i386 setuid32", i(i386Setuid32, 1000)},
		call{"i386 setgid32", i(i386Setgid32, 1000)},
		call{"i386 setresuid32", i(i386Setresuid, 1000, 1000, 1000)},
		call{"i386 setgroups32", i(i386Setgroups, 1, lowGroups)},
		call{"i386 setfsuid32", i(i386Setfsuid32, 1000)},
		call{"i386 getpid", i(i386Getpid)},
		call{"i386 getuid32", i(i386Getuid32)},
	)
}

// archFiltered are the outcomes with the filter that are not "0": calls
// the filter must let through. x32 is off in most kernels (ENOSYS).
func archFiltered() map[string]string {
	return map[string]string{"x32 getpid": "ENOSYS|pid", "i386 getpid": "pid"}
}

// archUnfiltered are the outcomes without the filter.
func archUnfiltered(i386 bool) map[string]string {
	m := map[string]string{
		"chown": "EINVAL", "lchown": "EINVAL",
		"x32 fchown": "ENOSYS|EINVAL", "x32 setuid": "ENOSYS|EINVAL", "x32 getpid": "ENOSYS|pid",
	}
	if i386 {
		for _, c := range []string{"fchown", "fchown32", "chown", "chown32", "lchown32", "fchownat",
			"setuid", "setuid32", "setgid32", "setresuid32"} {
			m["i386 "+c] = "EINVAL"
		}
		m["i386 setgroups32"] = "EPERM"
		m["i386 setfsuid32"] = "0"
		m["i386 getpid"] = "pid"
		m["i386 getuid32"] = "0"
	}
	return m
}

// probeI386 makes one i386 call in a child: a kernel without
// IA32_EMULATION (or booted with ia32_emulation=0) kills it.
func probeI386() error {
	c, err := startRole("int80", false)
	if err != nil {
		return err
	}
	out, err := c.finish()
	if err != nil {
		return err
	}
	if out != strconv.Itoa(c.pid())+"\n" {
		return fmt.Errorf("i386 getpid gave %q, want %d", strings.TrimSpace(out), c.pid())
	}
	return nil
}

func int80Role() int {
	r := int80.Syscall(i386Getpid, 0, 0, 0, 0, 0)
	if r < 0 {
		fmt.Fprintln(os.Stderr, errors.New(unix.ErrnoName(unix.Errno(-r))))
		return 1
	}
	fmt.Println(r)
	return 0
}
