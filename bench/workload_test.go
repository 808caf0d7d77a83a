package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// shape says how a workload's iterations meet their mount.
type shape int

const (
	// fresh: each iteration gets a new mount over an empty upper, mounted
	// and unmounted outside the timer. "Cold" walks are this shape: the
	// union's caches are empty, the host's page cache is not (an
	// unprivileged user cannot drop it).
	fresh shape = iota
	// warm: one mount; the workload runs once untimed, then each
	// iteration is timed on the same mount.
	warm
)

type workload struct {
	name  string
	desc  string // what runs, for the report (MNT is the mount point)
	shape shape
	rss   bool // report the FUSE server's peak RSS afterwards
	run   func(e *env, mnt string) error
	// prepare, if set, runs untimed before each iteration of a fresh
	// workload, after the mount.
	prepare func(e *env) error
	// check, run untimed after each iteration, confirms the work was
	// really done, so a broken union cannot look fast.
	check func(e *env, mnt string) error
	// manyFiles: the workload creates or removes thousands of files, so
	// its mounts' directories are set aside, not removed (removedDir).
	manyFiles bool
}

// workloads are issue 2's, in the report's row order.
var workloads = []workload{
	{
		name:  "find-stat-cold",
		desc:  "`find MNT/usr -ls`",
		shape: fresh,
		rss:   true,
		run:   findStat,
	},
	{
		name:  "find-stat-warm",
		desc:  "`find MNT/usr -ls`",
		shape: warm,
		rss:   true,
		run:   findStat,
	},
	{
		name:  "ls-lR-cold",
		desc:  "`ls -lR MNT/usr`",
		shape: fresh,
		rss:   true,
		run:   lsLR,
	},
	{
		name:  "ls-lR-warm",
		desc:  "`ls -lR MNT/usr`",
		shape: warm,
		rss:   true,
		run:   lsLR,
	},
	{
		name:  "read-1GiB-cold",
		desc:  "`dd if=MNT/" + readFile + " of=/dev/null bs=1M` (a lower file)",
		shape: fresh,
		run:   readBig,
	},
	{
		name:  "read-1GiB-warm",
		desc:  "`dd if=MNT/" + readFile + " of=/dev/null bs=1M` (a lower file)",
		shape: warm,
		run:   readBig,
	},
	{
		name:  "write-1GiB",
		desc:  "`dd if=/dev/zero of=MNT/" + writeName + " bs=1M count=1024 conv=fsync`",
		shape: fresh,
		run:   writeBig,
		check: checkWriteBig,
	},
	{
		name:      "create-delete-20k",
		desc:      "in the benchmark process: create 20,000 files of 512 bytes in a new directory under MNT/tmp, then delete them and the directory",
		shape:     fresh,
		run:       createDelete,
		check:     checkCreateDelete,
		manyFiles: true,
	},
	{
		name:      "untar-usr-lib",
		desc:      "`tar --numeric-owner -xf usr-lib.tar -C MNT/tmp/untar` (the rootfs's /usr/lib, as root)",
		shape:     fresh,
		run:       untar,
		check:     checkUntar,
		manyFiles: true,
	},
	{
		name: "copy-up-512MiB",
		desc: "`sh -c 'echo >> MNT/" + copyUpFile + "'` (a lower file: the whole file is copied up; its pages, " +
			"in the directory and in the indexed tar, are first dropped from the page cache with posix_fadvise DONTNEED, " +
			"so every peer copies from the disk, as from a layer's file not read before)",
		shape:   fresh,
		run:     copyUp,
		prepare: evictCopyUpSource,
		check:   checkCopyUp,
	},
	{
		name: "open-read-close-20k",
		desc: "in the benchmark process: 20,000 times open MNT/" + smallLowerFile + " (a small lower file), fstat it, " +
			"read it and close it, as a web server serving a file or an interpreter loading a module does",
		shape: warm,
		run:   openReadClose,
	},
	{
		name:  "python-import-cold",
		desc:  "`chroot MNT python3 -c 'import json, email, asyncio'`",
		shape: fresh,
		run:   pythonImport,
	},
	{
		name:  "python-import-warm",
		desc:  "`chroot MNT python3 -c 'import json, email, asyncio'`",
		shape: warm,
		run:   pythonImport,
	},
}

// chrootEnv is the environment of commands run inside the mounted rootfs.
var chrootEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}

// findStat stats every entry under /usr (find -ls lstats each one).
func findStat(_ *env, mnt string) error {
	return run("find", filepath.Join(mnt, "usr"), "-ls")
}

// lsLR lists /usr recursively with stats and xattr (ACL) probes.
func lsLR(_ *env, mnt string) error {
	return run("ls", "-lR", filepath.Join(mnt, "usr"))
}

func readBig(_ *env, mnt string) error {
	return run("dd", "if="+filepath.Join(mnt, readFile), "of=/dev/null", "bs=1M")
}

const writeName = "write-1GiB.bin"

func writeBig(_ *env, mnt string) error {
	return run("dd", "if=/dev/zero", "of="+filepath.Join(mnt, writeName), "bs=1M", "count=1024", "conv=fsync")
}

func checkWriteBig(_ *env, mnt string) error {
	return wantSize(filepath.Join(mnt, writeName), 1<<30)
}

const smallFiles = 20_000

// createDelete creates 20,000 small files in a new directory, then deletes
// them and the directory. It runs in this process: a command per file
// would measure process startup instead.
func createDelete(_ *env, mnt string) error {
	dir := filepath.Join(mnt, "tmp", "create-delete")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	data := make([]byte, 512)
	for i := range smallFiles {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), data, 0o644); err != nil {
			return err
		}
	}
	for i := range smallFiles {
		if err := os.Remove(filepath.Join(dir, strconv.Itoa(i))); err != nil {
			return err
		}
	}
	return os.Remove(dir)
}

func checkCreateDelete(_ *env, mnt string) error {
	if _, err := os.Lstat(filepath.Join(mnt, "tmp", "create-delete")); !os.IsNotExist(err) {
		return fmt.Errorf("create-delete directory still there after its removal: %v", err)
	}
	return nil
}

const smallLowerFile = "usr/lib/os-release"

// openReadClose opens, stats, reads and closes one small lower file
// 20,000 times. With every cache warm, that is the union's cost per
// request: each round is an OPEN, a GETATTR (the previous close
// invalidated the cached block count) and a RELEASE, and nothing else.
func openReadClose(_ *env, mnt string) error {
	name := filepath.Join(mnt, smallLowerFile)
	buf := make([]byte, 4096)
	for range smallFiles {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", name, err)
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		var n int
		if err == nil {
			n, err = unix.Read(fd, buf)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("stat or read %s: %w", name, err)
		}
		if n == 0 || int64(n) != min(st.Size, int64(len(buf))) {
			return fmt.Errorf("read %d bytes of %s, whose size is %d", n, name, st.Size)
		}
	}
	return nil
}

func untar(e *env, mnt string) error {
	dir := filepath.Join(mnt, "tmp", "untar")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	return run("tar", "--numeric-owner", "-xf", e.untarSrc, "-C", dir)
}

// checkUntar compares one extracted file with the rootfs's.
func checkUntar(e *env, mnt string) error {
	const probe = "usr/lib/os-release"
	want, err := os.Stat(filepath.Join(e.rootfsDir, probe))
	if err != nil {
		return err
	}
	return wantSize(filepath.Join(mnt, "tmp", "untar", probe), want.Size())
}

// evictCopyUpSource drops the copy-up file's pages from the page cache in
// both forms its lower takes: the file in the data directory (kernel
// overlayfs, fuse-overlayfs, nook-dir) and the indexed data tar (nook-tar).
// Without this the directory's file stays cached from run to run, while
// the tar, indexed afresh by every benchmark process, may not be: the
// peers would copy from different places.
func evictCopyUpSource(e *env) error {
	paths := []string{filepath.Join(e.dataDir, copyUpFile)}
	if len(e.nookTars) > 0 {
		paths = append(paths, e.nookTars[0]) // data comes first (buildTools)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		f.Close()
		if err != nil {
			return fmt.Errorf("drop %s from the page cache: %w", p, err)
		}
	}
	return nil
}

// copyUp appends one byte to a 512 MiB lower file: the union must copy the
// whole file up first.
func copyUp(_ *env, mnt string) error {
	return run("sh", "-c", `echo >> "$1"`, "sh", filepath.Join(mnt, copyUpFile))
}

func checkCopyUp(_ *env, mnt string) error {
	return wantSize(filepath.Join(mnt, copyUpFile), copyUpSize+1)
}

func pythonImport(_ *env, mnt string) error {
	return runIn(chrootEnv, "chroot", mnt, "python3", "-c", "import json, email, asyncio")
}

func wantSize(path string, size int64) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Size() != size {
		return fmt.Errorf("%s is %d bytes, want %d", path, fi.Size(), size)
	}
	return nil
}
