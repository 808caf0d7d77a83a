// Package int80 makes i386 system calls from an amd64 process with
// `int $0x80`, which the kernel runs through its i386 compat ABI (when
// built with IA32_EMULATION) and seccomp sees as AUDIT_ARCH_I386. The
// userns tests use it to check the single-id filter on that ABI without a
// 32-bit program. Pointer arguments must point below 4 GiB.
package int80
