package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePasta writes a pasta whose --help lists opts, as pastas of
// different ages do.
func fakePasta(t *testing.T, opts ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pasta")
	script := "#!/bin/sh\ncat <<'EOF'\n" + strings.Join(opts, "\n") + "\nEOF\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func binaries(paths map[string]string) Binaries {
	return Binaries{LookPath: func(name string) (string, error) {
		if p, ok := paths[name]; ok {
			return p, nil
		}
		return "", os.ErrNotExist
	}}
}

func TestDefault(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	current := fakePasta(t, append(pastaNeeds, pastaCurrent)...)
	old := fakePasta(t, pastaNeeds...)
	ancient := fakePasta(t, "--ns-ifname")

	if m, note, _ := binaries(map[string]string{"pasta": current, "slirp4netns": "/s"}).Default(); m.Kind != Pasta || note != "" {
		t.Errorf("current pasta: %v, %q", m, note)
	}
	// An old pasta: slirp4netns, with a note the first time only.
	b := binaries(map[string]string{"pasta": old, "slirp4netns": "/s"})
	if m, note, _ := b.Default(); m.Kind != Slirp4netns || !strings.Contains(note, "cannot forward UDP") {
		t.Errorf("old pasta, first time: %v, %q", m, note)
	}
	if m, note, _ := b.Default(); m.Kind != Slirp4netns || note != "" {
		t.Errorf("old pasta, again: %v, %q", m, note)
	}
	// Still pasta when there is nothing else.
	if m, _, _ := binaries(map[string]string{"pasta": old}).Default(); m.Kind != Pasta {
		t.Errorf("old pasta alone: %v", m)
	}
	if m, note, _ := binaries(map[string]string{"pasta": ancient, "slirp4netns": "/s"}).Default(); m.Kind != Slirp4netns || !strings.Contains(note, "lacks --config-net") {
		t.Errorf("unusable pasta: %v, %q", m, note)
	}
	if m, note, _ := binaries(nil).Default(); m.Kind != None || !strings.Contains(note, "apt-get install passt") {
		t.Errorf("no driver: %v, %q", m, note)
	}

	s := Setup{Mode: Mode{Kind: Pasta}}
	if err := binaries(map[string]string{"pasta": old}).Resolve(&s); err != nil || !s.PastaOld || s.Binary != old {
		t.Errorf("Resolve(old pasta) = %+v, %v", s, err)
	}
	s = Setup{Mode: Mode{Kind: Slirp4netns}}
	if err := binaries(nil).Resolve(&s); err == nil || !strings.Contains(err.Error(), "apt-get install slirp4netns") {
		t.Errorf("Resolve(missing slirp4netns) = %v", err)
	}
}
