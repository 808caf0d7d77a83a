// Package scripttest holds what the two testscript suites (testscripts,
// run in a user namespace, and testscripts/user, run as the invoking user)
// share: putting the test binary on PATH under the commands' names.
package scripttest

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// InstallCommands puts a copy of the test binary under each of names in a
// directory of its own and returns the directory. The test binary's
// TestMain runs the command its base name says.
func InstallCommands(t *testing.T, names []string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	bin := t.TempDir()
	for _, name := range names {
		dst := filepath.Join(bin, name)
		if err := os.Link(exe, dst); err == nil {
			continue
		}
		if err := copyFile(exe, dst); err != nil {
			t.Fatalf("install %s: %v", name, err)
		}
	}
	return bin
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
