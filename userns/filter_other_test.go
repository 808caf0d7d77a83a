//go:build !amd64

package userns

import (
	"fmt"
	"os"
)

// archCalls: other GOARCHs have no calls beyond the generic ones (arm64
// has no chown or lchown; its AArch32 compat calls need a 32-bit program).
func archCalls(string, int, bool) []call { return nil }

func archFiltered() map[string]string { return nil }

func archUnfiltered(bool) map[string]string { return nil }

// probeI386: the i386 ABI exists only beside amd64.
func probeI386() error { return nil }

func int80Role() int {
	fmt.Fprintln(os.Stderr, "no int $0x80 off amd64")
	return 1
}
