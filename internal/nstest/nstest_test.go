package nstest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { Main(m) }

func TestInNamespaceCanMount(t *testing.T) {
	Require(t)
	if os.Getuid() != 0 {
		t.Fatalf("uid inside the namespace is %d, want 0", os.Getuid())
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, ""); err != nil {
		t.Fatalf("mount tmpfs in the user namespace: %v", err)
	}
	defer unix.Unmount(dir, 0)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSubordinateIDsMapped(t *testing.T) {
	Require(t)
	if !HasSubordinateIDs() {
		Skip(t, "no subordinate id range for this user (needs /etc/subuid and newuidmap)")
	}
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(f, 1000, 1000); err != nil {
		t.Fatalf("chown to a subordinate id: %v", err)
	}
}
