package main

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nookrun/nook/internal/nstest"
)

// TestInitramfs writes an initramfs of this host's busybox and newuidmap
// and a stand-in payload, and reads it back with busybox cpio, a reader
// that is not ours.
func TestInitramfs(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		nstest.Skip(t, "no busybox to read the archive with (Debian's busybox-static): "+err.Error())
	}
	newuidmap, err := exec.LookPath("newuidmap")
	if err != nil {
		nstest.Skip(t, "no newuidmap to put in the archive (Debian's uidmap): "+err.Error())
	}
	newgidmap, err := exec.LookPath("newgidmap")
	if err != nil {
		nstest.Skip(t, "no newgidmap to put in the archive (Debian's uidmap): "+err.Error())
	}
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		nstest.Skip(t, "no nsenter to put in the archive (Debian's util-linux): "+err.Error())
	}
	u := userland{busybox: bb, newuidmap: newuidmap, newgidmap: newgidmap, nsenter: nsenter}
	libs := map[string]bool{}
	if err := sharedLibs(newuidmap, libs); err != nil {
		t.Fatal(err)
	}
	for lib := range libs {
		u.libs = append(u.libs, lib)
	}
	if len(u.libs) == 0 {
		t.Fatalf("found no shared libraries of %s", newuidmap)
	}

	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"runas", "vmtest.test", "nook", "nook-overlayfs"} {
		write(name, "stand-in for "+name)
	}
	pkg := testPkg{importPath: "github.com/nookrun/nook/vmtest", dir: ".", rel: "vmtest", name: "vmtest", run: "^(TestA|TestB)$"}
	archive := filepath.Join(dir, "initramfs.cpio")
	p := payload{dir: dir, pkgs: []testPkg{pkg}, nookBin: dir, testTimeout: 90 * time.Second}
	if err := writeInitramfs(archive, kernel{}, u, p); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(bb, "cpio", "-tv", "-F", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("busybox cpio -tv: %v\n%s", err, out)
	}
	// Lines: MODE UID/GID SIZE DATE TIME NAME [-> TARGET]
	entries := map[string][]string{}
	seen := map[string]bool{".": true}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if strings.HasSuffix(line, " blocks") {
			continue // the total at the end
		}
		if len(f) < 6 {
			t.Fatalf("odd listing line %q", line)
		}
		name := f[5]
		if !seen[path.Dir(name)] {
			t.Errorf("%s comes before its directory", name)
		}
		seen[name] = true
		entries[name] = f
	}
	for name, want := range map[string]string{
		"init":                             "-rwxr-xr-x 0/0",
		"bin/sh":                           "lrwxrwxrwx 0/0",
		"dev/console":                      "crw------- 0/0",
		"tmp":                              "drwxrwxrwt 0/0",
		"usr/bin/newuidmap":                "-rwsr-xr-x 0/0",
		"usr/bin/newgidmap":                "-rwsr-xr-x 0/0",
		"usr/bin/nsenter":                  "-rwxr-xr-x 0/0",
		"usr/local/bin/nook":               "-rwxr-xr-x 0/0",
		"vmtest/bin/vmtest.test":           "-rwxr-xr-x 0/0",
		"vmtest/payload.sh":                "-rw-r--r-- 0/0",
		"vmtest/src":                       "drwxr-xr-x 1000/1000",
		"vmtest/src/vmtest":                "drwxr-xr-x 1000/1000",
		"vmtest/src/vmtest/init.sh":        "-rwxr-xr-x 1000/1000",
		"vmtest/src/vmtest/testdata":       "drwxr-xr-x 1000/1000",
		"lib/modules/vmtest/order":         "-rw-r--r-- 0/0",
		strings.TrimPrefix(u.libs[0], "/"): "-rwxr-xr-x 0/0",
	} {
		f := entries[name]
		if f == nil {
			t.Errorf("no %s in the archive", name)
			continue
		}
		if got := f[0] + " " + f[1]; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if f := entries["vmtest/src/vmtest/main.go"]; f != nil {
		t.Error("the package copy has its Go source")
	}

	// The plan is what init.sh reads.
	extract := t.TempDir()
	cmd := exec.Command(bb, "cpio", "-id", "-F", archive, "vmtest/plan", "init")
	cmd.Dir = extract
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("busybox cpio -id: %v\n%s", err, out)
	}
	plan, err := os.ReadFile(filepath.Join(extract, "vmtest/plan"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "vmtest\tvmtest\t^(TestA|TestB)$\t1m30s\n"; string(plan) != want {
		t.Errorf("plan %q, want %q", plan, want)
	}
	initData, err := os.ReadFile(filepath.Join(extract, "init"))
	if err != nil || string(initData) != string(initScript) {
		t.Errorf("/init is not init.sh (%v)", err)
	}
}
