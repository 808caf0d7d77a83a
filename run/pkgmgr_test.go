package run

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nookrun/nook/image/imagetest"
	"github.com/nookrun/nook/internal/nstest"
	"github.com/nookrun/nook/userns"
)

// tarGz is a gzip'd tar of files (path → content) owned by uid:gid.
func tarGz(t *testing.T, files map[string]string, uid, gid int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, content := range files {
		parts := strings.Split(name, "/")
		for i := 1; i < len(parts); i++ {
			tw.WriteHeader(&tar.Header{Name: "./" + strings.Join(parts[:i], "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o644, Size: int64(len(content)), Uid: uid, Gid: gid}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// writeDeb writes a Debian package (an ar archive) whose one file,
// /opt/pkg/owned, belongs to 1000:1000, as dpkg packages with files of
// other owners do.
func writeDeb(t *testing.T, path string) {
	t.Helper()
	members := []struct {
		name string
		data []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", tarGz(t, map[string]string{"control": "Package: owned\nVersion: 1.0\nArchitecture: all\nMaintainer: nook\nDescription: files of another owner\n"}, 0, 0)},
		{"data.tar.gz", tarGz(t, map[string]string{"opt/pkg/owned": "x\n"}, 1000, 1000)},
	}
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&buf, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.name, 0, 0, 0, 0o100644, len(m.data))
		buf.Write(m.data)
		if len(m.data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPackageManagerChown installs a package whose files belong to
// another user with dpkg (busybox's): with a subuid range the files keep
// their owner; with a single id the chown succeeds without effect, so the
// install works and every file shows as root.
func TestPackageManagerChown(t *testing.T) {
	deb := filepath.Join(t.TempDir(), "owned.deb")
	writeDeb(t, deb)
	for _, tc := range []struct {
		mode  userns.Mode
		owner string
	}{
		{userns.SubID, "1000:1000"},
		{userns.Single, "0:0"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			if tc.mode == userns.SubID && !hasSubIDs(t) {
				nstest.Skip(t, "no subordinate id range for this user")
			}
			out := inside(t, tc.mode, func(c *Config) {
				c.Mounts = []Mount{{Type: "bind", Source: deb, Target: "/owned.deb", File: true, ReadOnly: true}}
			}, `mkdir -p /var/lib/dpkg/info /var/lib/dpkg/updates && touch /var/lib/dpkg/status &&
				dpkg -i /owned.deb >/dev/null && stat -c %u:%g /opt/pkg/owned`)
			if got := strings.TrimSpace(out); got != tc.owner {
				t.Errorf("installed file owned by %s, want %s", got, tc.owner)
			}
		})
	}
}

// TestSingleIDApt: in a single-id container of an image with apt, apt is
// told to stay root (its privilege drop would be faked and then fail its
// own check).
func TestSingleIDApt(t *testing.T) {
	layers := testImage(t, imagetest.Busybox(t, imagetest.WithFile(imagetest.File{Path: "/etc/apt/apt.conf", Mode: 0o644, Content: "Acquire::Retries \"3\";\n"})))
	r := runIn(t, layers, userns.Single, nil, "sh", "-c", `cat "$APT_CONFIG"`)
	if r.err != nil || r.code != 0 {
		t.Fatalf("status %d, %v, %s", r.code, r.err, r.stderr)
	}
	for _, want := range []string{`APT::Sandbox::User "root";`, `#include "/etc/apt/apt.conf";`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("APT_CONFIG file %q lacks %s", r.stdout, want)
		}
	}
	r = runIn(t, layers, userns.Auto, nil, "sh", "-c", `echo "[$APT_CONFIG]"`)
	if hasSubIDs(t) && r.stdout != "[]\n" {
		t.Errorf("with a subuid range APT_CONFIG is %q, want unset", r.stdout)
	}
}

func hasSubIDs(t *testing.T) bool {
	plan, err := userPlanFor(t, userns.Auto)
	return err == nil && plan.Mode == userns.SubID
}
