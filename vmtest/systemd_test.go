package main

import (
	"archive/tar"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nookrun/nook/internal/nstest"
)

// TestSystemdInitramfs copies a small root filesystem tar into the
// systemd flavour's initramfs and reads it back with busybox cpio: owners
// and modes from the tar, the hard link's data, no device nodes but
// /dev/console, the unit and the payload.
func TestSystemdInitramfs(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		nstest.Skip(t, "no busybox to read the archive with (Debian's busybox-static): "+err.Error())
	}
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs.tar")
	f, err := os.Create(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, h := range []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./bin", Typeflag: tar.TypeSymlink, Linkname: "usr/bin", Mode: 0o777},
		{Name: "./usr/bin/newuidmap", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 5},
		{Name: "./usr/bin/perl", Typeflag: tar.TypeReg, Mode: 0o755, Size: 4},
		{Name: "./usr/bin/perl5", Typeflag: tar.TypeLink, Linkname: "./usr/bin/perl", Mode: 0o755},
		{Name: "./home/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./home/user/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000},
		{Name: "./dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./dev/console", Typeflag: tar.TypeChar, Mode: 0o600, Devmajor: 5, Devminor: 1},
		{Name: "./dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		{Name: "./etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./etc/systemd/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./etc/systemd/system/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/local/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/local/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte("data!"[:h.Size])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, name := range []string{"runas", "cgroupdeleg.test", "nook", "nook-overlayfs"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("stand-in"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pkg := testPkg{importPath: "github.com/nookrun/nook/vmtest", dir: ".", rel: "vmtest", name: "cgroupdeleg", run: "^(TestVMSystemdScope)$"}
	archive := filepath.Join(dir, "initramfs.cpio")
	p := payload{dir: dir, pkgs: []testPkg{pkg}, nookBin: dir, testTimeout: time.Minute}
	if err := writeSystemdInitramfs(archive, rootfs, kernel{}, p); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bb, "cpio", "-tv", "-F", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("busybox cpio -tv: %v\n%s", err, out)
	}
	// Lines: MODE UID/GID SIZE ...; busybox lists symlinks and devices
	// with size 0, and hard links only when unpacking (checked below).
	entries := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) >= 6 {
			entries[f[5]] = f[0] + " " + f[1] + " " + f[2]
		}
	}
	for name, want := range map[string]string{
		"init":                              "-rwxr-xr-x 0/0 " + itoa(len(systemdScript)),
		"bin":                               "lrwxrwxrwx 0/0 0",
		"usr/bin/newuidmap":                 "-rwsr-xr-x 0/0 5",
		"usr/bin/perl":                      "-rwxr-xr-x 0/0 4",
		"home/user":                         "drwx------ 1000/1000 0",
		"dev/console":                       "crw------- 0/0 0",
		"usr/local/bin/nook":                "-rwxr-xr-x 0/0 8",
		"vmtest/modules/order":              "-rw-r--r-- 0/0 0",
		"vmtest/plan":                       "-rw-r--r-- 0/0 47",
		"etc/systemd/system/vmtest.service": "-rw-r--r-- 0/0 " + itoa(len(systemdUnit)),
		"etc/systemd/system/multi-user.target.wants/vmtest.service": "lrwxrwxrwx 0/0 0",
	} {
		if got := entries[name]; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if _, ok := entries["dev/null"]; ok {
		t.Error("dev/null is in the archive: devtmpfs makes it")
	}
	if _, ok := entries["lib/modules/vmtest"]; ok {
		t.Error("lib/modules/vmtest is in the archive: lib is a symlink in Debian's root filesystem")
	}

	// The hard link gets the file's data when the archive is unpacked.
	extract := t.TempDir()
	cmd := exec.Command(bb, "cpio", "-id", "-F", archive, "usr/bin/perl", "usr/bin/perl5")
	cmd.Dir = extract
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio -id: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(extract, "usr/bin/perl5")); err != nil || string(b) != "data" {
		t.Errorf("the hard link holds %q (%v), want \"data\"", b, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSelectSystemdTests: the systemd flavour runs only the tests of
// *systemd_vmtest_test.go files, the busybox flavour only the others.
func TestSelectSystemdTests(t *testing.T) {
	for name, want := range map[string]bool{
		"systemd_vmtest_test.go": true, "scope_systemd_vmtest_test.go": true,
		"cgroup_vmtest_test.go": false, "systemd_test.go": false,
	} {
		if got := isSystemdTestFile(name); got != want {
			t.Errorf("isSystemdTestFile(%q) = %v", name, got)
		}
	}
	ctx := context.Background()
	root, err := moduleRoot(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	for _, systemd := range []bool{false, true} {
		pkgs, err := selectPackages(ctx, "go", root, []string{"./cgroupdeleg"}, "", systemd)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkgs) != 1 {
			t.Fatalf("systemd=%v: %+v", systemd, pkgs)
		}
		if got := strings.Contains(pkgs[0].run, "TestVMSystemd"); got != systemd {
			t.Errorf("systemd=%v: -test.run %s", systemd, pkgs[0].run)
		}
		if got := strings.Contains(pkgs[0].run, "TestVMFind"); got == systemd {
			t.Errorf("systemd=%v: -test.run %s", systemd, pkgs[0].run)
		}
	}
}

// TestSelectSystemdRun: with -run, the systemd VM runs the systemd tests
// it matches, and a package with none is left out.
func TestSelectSystemdRun(t *testing.T) {
	ctx := context.Background()
	root, err := moduleRoot(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := selectPackages(ctx, "go", root, []string{"./cgroupdeleg", "./vmtest/smoke"}, "TestVM", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || strings.Contains(pkgs[0].run, "TestVMFind") || !strings.Contains(pkgs[0].run, "TestVMSystemdScope") {
		t.Errorf("-run TestVM in the systemd VM: %+v", pkgs)
	}
	pkgs, err = selectPackages(ctx, "go", root, []string{"./cgroupdeleg"}, "TestVMFind", true)
	if err != nil || len(pkgs) != 0 {
		t.Errorf("-run TestVMFind in the systemd VM: %+v (%v)", pkgs, err)
	}
}
