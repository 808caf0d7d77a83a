package userns

import "golang.org/x/sys/unix"

// abi is one syscall ABI the filter recognises by seccomp_data.arch.
type abi struct {
	name string
	arch uint32
	// nrMask clears bits that select a sub-ABI sharing arch: x32 calls
	// arrive as AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set, and use the
	// x86_64 numbers for every call faked here.
	nrMask uint32
	fake   []uint32 // syscalls that return 0 without effect
}

const x32SyscallBit = 0x40000000

// The syscall numbers below are those of golang.org/x/sys/unix's
// zsysnum_linux_{amd64,386,arm64,arm}.go, written out because each GOARCH
// sees only its own. The *32 calls are the 32-bit-id variants of the i386
// and ARM ABIs; the plain ones there take 16-bit ids.

func abiX8664() abi {
	return abi{name: "x86_64", arch: unix.AUDIT_ARCH_X86_64, nrMask: ^uint32(x32SyscallBit), fake: []uint32{
		92,  // chown
		93,  // fchown
		94,  // lchown
		260, // fchownat
		105, // setuid
		106, // setgid
		113, // setreuid
		114, // setregid
		116, // setgroups
		117, // setresuid
		119, // setresgid
		122, // setfsuid
		123, // setfsgid
	}}
}

func abiI386() abi {
	return abi{name: "i386", arch: unix.AUDIT_ARCH_I386, nrMask: ^uint32(0), fake: append(legacy32(), 298 /* fchownat */)}
}

func abiARM() abi {
	return abi{name: "arm", arch: unix.AUDIT_ARCH_ARM, nrMask: ^uint32(0), fake: append(legacy32(), 325 /* fchownat */)}
}

// legacy32 are the numbers i386 and 32-bit ARM share.
func legacy32() []uint32 {
	return []uint32{
		182, // chown (16-bit ids)
		95,  // fchown
		16,  // lchown
		212, // chown32
		207, // fchown32
		198, // lchown32
		23,  // setuid
		46,  // setgid
		70,  // setreuid
		71,  // setregid
		81,  // setgroups
		164, // setresuid
		170, // setresgid
		138, // setfsuid
		139, // setfsgid
		213, // setuid32
		214, // setgid32
		203, // setreuid32
		204, // setregid32
		206, // setgroups32
		208, // setresuid32
		210, // setresgid32
		215, // setfsuid32
		216, // setfsgid32
	}
}

// abiAArch64 uses the generic syscall table, which has no chown or lchown.
func abiAArch64() abi {
	return abi{name: "aarch64", arch: unix.AUDIT_ARCH_AARCH64, nrMask: ^uint32(0), fake: []uint32{
		54,  // fchownat
		55,  // fchown
		146, // setuid
		144, // setgid
		145, // setreuid
		143, // setregid
		159, // setgroups
		147, // setresuid
		149, // setresgid
		151, // setfsuid
		152, // setfsgid
	}}
}

// abisFor lists the ABIs a process of goarch can reach: a 64-bit process
// may also make 32-bit compat calls (int 0x80 on amd64, an AArch32 exec on
// arm64), and the filter must cover them or they would slip past it.
func abisFor(goarch string) []abi {
	switch goarch {
	case "amd64":
		return []abi{abiX8664(), abiI386()}
	case "386":
		return []abi{abiI386()}
	case "arm64":
		return []abi{abiAArch64(), abiARM()}
	case "arm":
		return []abi{abiARM()}
	}
	return nil
}
