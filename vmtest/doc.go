// Command vmtest is `make vmtest`: it runs the `vmtest`-tagged Go tests as an
// unprivileged user inside a small qemu VM whose kernel has a unified cgroup
// v2 hierarchy with a subtree delegated to that user, the way systemd's
// Delegate=yes leaves it. The development machines' cgroups are hybrid, so
// nook's cgroup limits can only be tested for real there.
//
// Everything comes from Debian packages and the Go toolchain, and nothing
// needs root or KVM:
//
//	step        what                                            cached in $XDG_CACHE_HOME/nook-vmtest
//	packages    apt-get download of Debian's cloud kernel,      debs/
//	            busybox-static and uidmap (setuid newuidmap)
//	kernel      vmlinuz, an uncompressed vmlinux for a PVH       kernel/<package>/
//	            boot, and the modules fuse overlay tun veth
//	            brd with their dependencies
//	payload     go test -c -tags vmtest of each package with    (Go's build cache)
//	            vmtest-tagged tests, bin/nook, runas, copies
//	            of the packages' testdata
//	initramfs   a cpio of all of that plus init.sh as /init     runs/<id>/ (deleted after the run)
//	boot        qemu-system-x86_64 under TCG; the tests'        runs/<id>/console.log, results.txt
//	            output comes back over a second serial port      (the last runs are kept)
//	report      go tool test2json per package; every
//	            package's output, then one summary line
//
// In the VM, init.sh (the initramfs's /init) delegates
// /sys/fs/cgroup/user.slice/user-1000 to uid 1000 and runs each test binary
// as that user, in a fresh leaf cgroup below it, with NOOK_TEST_STRICT=1 and
// NOOK_VMTEST=1, from its package directory's copy.
//
// A package joins by having _test.go files with the build constraint
// `//go:build vmtest`; in the VM its test binary runs the Test functions
// those files define (-run replaces that choice). vmtest/README.md has the
// details, the flags and the timings.
package main
