package userns

import (
	"encoding/binary"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// runBPF runs a seccomp program over a seccomp_data holding nr and arch,
// for the few instructions the assembler emits, and checks the kernel's
// rules on the way: forward jumps inside the program, a ret at the end.
func runBPF(t *testing.T, prog []unix.SockFilter, nr int32, arch uint32) uint32 {
	t.Helper()
	var data [64]byte
	binary.NativeEndian.PutUint32(data[offNr:], uint32(nr))
	binary.NativeEndian.PutUint32(data[offArch:], arch)
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K+4 > uint32(len(data)) {
				t.Fatalf("pc %d: load at %d", pc, in.K)
			}
			a = binary.NativeEndian.Uint32(data[in.K:])
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if a == in.K {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			if pc+1 >= len(prog) {
				t.Fatalf("jump past the end at pc %d", pc)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("pc %d: instruction %#x the test does not know", pc, in.Code)
		}
	}
	t.Fatalf("program ran off its end")
	return 0
}

// TestFilterPrograms checks each GOARCH's program call by call, including
// the ABIs this machine cannot run (aarch64, 32-bit ARM).
func TestFilterPrograms(t *testing.T) {
	for _, goarch := range []string{"amd64", "386", "arm64", "arm"} {
		prog, err := filterFor(goarch)
		if err != nil {
			t.Fatal(err)
		}
		abis := abisFor(goarch)
		for _, a := range abis {
			for nr := int32(0); nr < 1024; nr++ {
				want := uint32(retAllow)
				if slices.Contains(a.fake, uint32(nr)) {
					want = retFake
				}
				if got := runBPF(t, prog, nr, a.arch); got != want {
					t.Errorf("%s %s syscall %d: ret %#x, want %#x", goarch, a.name, nr, got, want)
				}
				if a.arch == unix.AUDIT_ARCH_X86_64 {
					if got := runBPF(t, prog, nr|x32SyscallBit, a.arch); got != want {
						t.Errorf("%s x32 syscall %d: ret %#x, want %#x", goarch, nr, got, want)
					}
				}
			}
		}
		// An ABI the program does not know is left alone.
		for _, arch := range []uint32{unix.AUDIT_ARCH_X86_64, unix.AUDIT_ARCH_I386, unix.AUDIT_ARCH_AARCH64, unix.AUDIT_ARCH_ARM, unix.AUDIT_ARCH_RISCV64} {
			if slices.ContainsFunc(abis, func(a abi) bool { return a.arch == arch }) {
				continue
			}
			for _, nr := range []int32{0, 92, 105, 146, 212, -1} {
				if got := runBPF(t, prog, nr, arch); got != retAllow {
					t.Errorf("%s: arch %#x syscall %d: ret %#x, want allow", goarch, arch, nr, got)
				}
			}
		}
	}
	if _, err := filterFor("riscv64"); err == nil {
		t.Error("filterFor(riscv64) made a program for ABIs it has no table of")
	}
}

// TestFilterTables checks that every ABI fakes the chown and set*id
// family it has, by count: 13 calls on x86_64, 11 on aarch64 (no chown,
// lchown), 25 on i386 and ARM (16- and 32-bit id variants plus fchownat).
func TestFilterTables(t *testing.T) {
	for _, tt := range []struct {
		a abi
		n int
	}{{abiX8664(), 13}, {abiAArch64(), 11}, {abiI386(), 25}, {abiARM(), 25}} {
		seen := map[uint32]bool{}
		for _, nr := range tt.a.fake {
			if seen[nr] {
				t.Errorf("%s: syscall %d listed twice", tt.a.name, nr)
			}
			seen[nr] = true
		}
		if len(seen) != tt.n {
			t.Errorf("%s: %d syscalls faked, want %d", tt.a.name, len(seen), tt.n)
		}
	}
}
