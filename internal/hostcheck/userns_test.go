package hostcheck

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/nookrun/nook/internal/nstest"
)

// TestUserNamespaces checks the probe against util-linux's unshare, a
// second opinion on whether this kernel lets this user make the
// namespaces.
func TestUserNamespaces(t *testing.T) {
	if unshare, err := exec.LookPath("unshare"); err == nil {
		out, err := exec.Command(unshare, "--user", "--mount", "--pid", "--fork", "--uts", "--ipc", "--net", "true").CombinedOutput()
		if err != nil {
			nstest.Skip(t, "this kernel does not let this user make namespaces: unshare: "+err.Error()+": "+string(out))
		}
	}
	r := Report{Sections: []Section{usernsSection(context.Background())}}
	for _, key := range []string{"user namespace", "container namespaces"} {
		c, _ := r.Check("user namespaces", key)
		if c.Status != OK {
			t.Errorf("%s = %+v, want ok", key, c)
		}
	}
	// The knobs are reported as /proc/sys has them.
	for _, k := range usernsKnobs {
		c, ok := r.Check("user namespaces", k.name)
		data, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(k.name, ".", "/"))
		switch {
		case !ok:
			t.Errorf("no check for %s", k.name)
		case err != nil && c.Value != "not present in this kernel":
			t.Errorf("%s = %+v, but /proc/sys does not have it", k.name, c)
		case err == nil && (c.Value != strings.TrimSpace(string(data)) || c.Status != Info):
			t.Errorf("%s = %+v, want info %q", k.name, c, strings.TrimSpace(string(data)))
		}
	}
}

func TestUsernsFixNamesTheKnob(t *testing.T) {
	for _, tc := range []struct {
		knobs map[string]string
		want  string
	}{
		{map[string]string{"kernel.unprivileged_userns_clone": "0", "user.max_user_namespaces": "100"}, "kernel.unprivileged_userns_clone=1"},
		{map[string]string{"user.max_user_namespaces": "0"}, "user.max_user_namespaces=28633"},
		{map[string]string{"kernel.apparmor_restrict_unprivileged_userns": "1", "user.max_user_namespaces": "100"}, "AppArmor profile"},
		{map[string]string{"user.max_user_namespaces": "100"}, "security module"},
	} {
		if got := usernsFix(tc.knobs); !strings.Contains(got, tc.want) {
			t.Errorf("usernsFix(%v) = %q, want it to say %q", tc.knobs, got, tc.want)
		}
	}
}

func TestTryCloneReportsFailure(t *testing.T) {
	// CLONE_NEWNS with CLONE_FS is refused by every kernel (EINVAL).
	const cloneFS = 0x200
	if err := tryClone(context.Background(), syscall.CLONE_NEWNS|cloneFS); err == nil || !strings.Contains(err.Error(), "clone ") {
		t.Errorf("tryClone(CLONE_NEWNS|CLONE_FS) = %v, want an error saying what was cloned", err)
	}
}
