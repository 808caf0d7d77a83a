package userns

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// seccomp_data offsets (linux/seccomp.h): int nr; __u32 arch; ...
const (
	offNr   = 0
	offArch = 4
)

const (
	retAllow = unix.SECCOMP_RET_ALLOW
	// retFake is SECCOMP_RET_ERRNO with errno 0 in its low bits: the
	// kernel skips the call and returns 0 from it.
	retFake = unix.SECCOMP_RET_ERRNO
)

// SingleIDFilter returns the single-id mode's seccomp program for this
// GOARCH: chown-family and set*id-family calls return 0 without effect on
// every ABI the process can use; everything else is allowed.
func SingleIDFilter() ([]unix.SockFilter, error) {
	return filterFor(runtime.GOARCH)
}

// filterFor assembles the program for goarch. The layout, with every jump
// forward and short as classic BPF demands:
//
//	ld arch; jeq ABI_1 -> block 1; ...; jeq ABI_k -> block k; ret ALLOW
//	block i: ld nr; [and mask]; jeq n_1 -> fake; ...; jeq n_m -> fake; ret ALLOW; fake: ret ERRNO|0
func filterFor(goarch string) ([]unix.SockFilter, error) {
	abis := abisFor(goarch)
	if len(abis) == 0 {
		return nil, fmt.Errorf("%w %s: use a subordinate id range (--userns=auto with /etc/subuid)", ErrNoFilter, goarch)
	}
	blocks := make([][]unix.SockFilter, len(abis))
	for i, a := range abis {
		blocks[i] = abiBlock(a)
	}
	prog := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch)}
	// The dispatch: jeq i sits at prog index 1+i; its true branch skips
	// the rest of the dispatch (k-1-i jeqs and the ret) and the blocks
	// before block i.
	skip := 0
	for i, a := range abis {
		jt := len(abis) - 1 - i + 1 + skip
		if jt > 255 {
			return nil, fmt.Errorf("assemble seccomp filter for %s: jump of %d too long", goarch, jt)
		}
		prog = append(prog, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, a.arch, uint8(jt), 0))
		skip += len(blocks[i])
	}
	prog = append(prog, stmt(unix.BPF_RET|unix.BPF_K, retAllow))
	for _, b := range blocks {
		prog = append(prog, b...)
	}
	if len(prog) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("assemble seccomp filter for %s: %d instructions", goarch, len(prog))
	}
	return prog, nil
}

// abiBlock matches one ABI's syscall numbers. Every jeq's true branch
// lands on the final ret ERRNO|0; m is at most a few dozen, far below the
// 255 a jump can reach.
func abiBlock(a abi) []unix.SockFilter {
	b := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr)}
	if a.nrMask != ^uint32(0) {
		b = append(b, stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, a.nrMask))
	}
	for i, nr := range a.fake {
		// After jeq i come m-1-i jeqs and the ret ALLOW.
		b = append(b, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, nr, uint8(len(a.fake)-1-i+1), 0))
	}
	return append(b, stmt(unix.BPF_RET|unix.BPF_K, retAllow), stmt(unix.BPF_RET|unix.BPF_K, retFake))
}

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}
