package bench

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// printConfig prints what the run measured on as "key: value" lines, the
// configuration form of Go's benchmark format, so benchtable (and benchstat)
// carry it into the report.
func printConfig(e *env) {
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		fmt.Printf("kernel: %s\n", unix.ByteSliceToString(uts.Release[:]))
	}
	// Other work on the machine skews every figure; say how busy it was.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			fmt.Printf("load-at-start: %s %s %s (1, 5, 15 min)\n", f[0], f[1], f[2])
		}
	}
	if out, err := exec.Command("fuse-overlayfs", "--version").CombinedOutput(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "fuse-overlayfs: version "); ok {
				fmt.Printf("fuse-overlayfs: %s\n", strings.TrimSpace(v))
			}
		}
	}
	if d, f, l, size, err := treeStats(filepath.Join(e.rootfsDir, "usr")); err == nil {
		fmt.Printf("walked-tree: Debian %s minbase + %s, /usr: %d dirs, %d files, %d symlinks, %d MB\n",
			suite, packages, d, f, l, size/1e6)
	}
	if d, f, l, size, err := treeStats(filepath.Join(e.rootfsDir, "usr", "lib")); err == nil {
		fmt.Printf("untar-source: /usr/lib of the rootfs, %d entries, %d MB\n", d+f+l, size/1e6)
	}
	if out, err := exec.Command("findmnt", "-no", "FSTYPE", "-T", e.scratch).Output(); err == nil {
		fmt.Printf("upper-fs: %s\n", strings.TrimSpace(string(out)))
	}
	for _, w := range workloads {
		fmt.Printf("workload-%s: %s\n", w.name, w.desc)
	}
	fmt.Println("workload-debian-rootfs: nook-index is `mklayer DIR < rootfs.tar` (layer.Create: a copy of the tar " +
		"and its index, both fsynced); tar-x is `tar --numeric-owner -xf rootfs.tar -C DIR` (as root, no sync)")
	if root, err := moduleRoot(); err == nil {
		// The checkout may belong to another user than the one running
		// the benchmark; safe.directory on the command line accepts it.
		out, err := exec.Command("git", "-c", "safe.directory="+root, "-C", root,
			"describe", "--always", "--dirty").Output()
		if err == nil {
			fmt.Printf("nook-commit: %s\n", strings.TrimSpace(string(out)))
		}
	}
}

// treeStats counts the directories, regular files and symlinks under root
// and adds up the regular files' sizes.
func treeStats(root string) (dirs, files, links int, size int64, err error) {
	err = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs++
		case d.Type()&fs.ModeSymlink != 0:
			links++
		case d.Type().IsRegular():
			files++
			info, err := d.Info()
			if err != nil {
				return err
			}
			size += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("walk %s: %w", root, err)
	}
	return dirs, files, links, size, nil
}

// reportLoad reports how busy the machine was as metrics of every result:
// this machine is shared, and benchtable flags runs measured while other
// work competed for the cores. cpu-wait-% (the share of the last 10 s in
// which some runnable task waited for a CPU, from /proc/pressure/cpu) is
// the measure that counts; load1 also counts tasks blocked in D state,
// which use no CPU.
func reportLoad(b *testing.B) {
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				b.ReportMetric(v, "load1")
			}
		}
	}
	if raw, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		for _, f := range strings.Fields(string(raw)) {
			if v, ok := strings.CutPrefix(f, "avg10="); ok {
				if pct, err := strconv.ParseFloat(v, 64); err == nil {
					b.ReportMetric(pct, "cpu-wait-%")
				}
				break // the first line is "some"
			}
		}
	}
}
