package network

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Kind is a container's network mode.
type Kind string

// The network modes of --network.
const (
	None        Kind = "none"
	Host        Kind = "host"
	Pasta       Kind = "pasta"
	Slirp4netns Kind = "slirp4netns"
	// Container shares another container's network namespace.
	Container Kind = "container"
)

// Mode is a parsed --network value.
type Mode struct {
	Kind Kind
	// Container is the container named by container:NAME.
	Container string
}

func (m Mode) String() string {
	if m.Kind == Container {
		return "container:" + m.Container
	}
	return string(m.Kind)
}

// Private is true when the container has a user-mode network of its own
// (a tap device behind pasta or slirp4netns).
func (m Mode) Private() bool { return m.Kind == Pasta || m.Kind == Slirp4netns }

// ParseMode parses --network. "" and "default" pick the default driver
// (Default).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "default":
		return Mode{}, nil
	case "none", "host", "pasta", "slirp4netns":
		return Mode{Kind: Kind(s)}, nil
	case "bridge", "private":
		// Docker's and Podman's default names: a network of its own.
		return Mode{}, nil
	}
	if name, ok := strings.CutPrefix(s, "container:"); ok {
		if name == "" {
			return Mode{}, errors.New(`--network container: needs a container name or id ("container:NAME")`)
		}
		return Mode{Kind: Container, Container: name}, nil
	}
	return Mode{}, fmt.Errorf("network %q is not supported: use pasta, slirp4netns, none, host or container:NAME", s)
}

// Binaries locates the user-mode network drivers; tests replace LookPath.
type Binaries struct {
	LookPath func(string) (string, error)
}

func (b Binaries) lookPath(name string) (string, error) {
	if b.LookPath != nil {
		return b.LookPath(name)
	}
	return exec.LookPath(name)
}

// Default picks the network of a container when --network was not given,
// as Podman does: pasta when it is installed and current, slirp4netns
// otherwise (an old pasta still when there is no slirp4netns). Without
// either the container gets loopback only. note, when not empty, says
// why the choice was not pasta and what to install. minor marks a note
// about a choice that still runs the container (an old pasta passed over,
// or loopback only): for a user at a terminal, not for scripts and batch
// jobs, whose output it would change; nook info says the same.
func (b Binaries) Default() (m Mode, note string, minor bool) {
	_, slirpErr := b.lookPath("slirp4netns")
	pastaPath, pastaErr := b.lookPath("pasta")
	if pastaErr == nil {
		sup, err := checkPasta(pastaPath)
		switch {
		case err == nil && !sup.Old:
			return Mode{Kind: Pasta}, "", false
		case slirpErr == nil && err != nil:
			return Mode{Kind: Slirp4netns}, fmt.Sprintf("using slirp4netns: %v", err), true
		case slirpErr == nil:
			if sup.Noticed {
				return Mode{Kind: Slirp4netns}, "", false
			}
			return Mode{Kind: Slirp4netns}, fmt.Sprintf("using slirp4netns, not pasta: the installed pasta (%s) predates passt 2024_08_21 and cannot forward UDP from the host's loopback (--network pasta still uses it, forwarding UDP itself)", pastaPath), true
		case err == nil:
			return Mode{Kind: Pasta}, "", false
		}
	}
	if slirpErr == nil {
		return Mode{Kind: Slirp4netns}, "", false
	}
	return Mode{Kind: None}, "no network driver is installed, so the container has loopback only; " + installHint(Pasta), true
}

// Resolve checks that the driver of an explicit mode is installed and
// fills in s.Binary and s.PastaOld.
func (b Binaries) Resolve(s *Setup) error {
	m := s.Mode
	if !m.Private() {
		return nil
	}
	path, err := b.lookPath(string(m.Kind))
	if err != nil {
		return fmt.Errorf("--network %s: %s is not installed: %s", m.Kind, m.Kind, installHint(m.Kind))
	}
	s.Binary = path
	if m.Kind == Pasta {
		sup, err := checkPasta(path)
		if err != nil {
			return fmt.Errorf("--network pasta: %w; use --network slirp4netns", err)
		}
		s.PastaOld = sup.Old
	}
	return nil
}

// installHint names the package that has a driver.
func installHint(k Kind) string {
	if k == Slirp4netns {
		return "install slirp4netns (Debian/Ubuntu: sudo apt-get install slirp4netns; Fedora: sudo dnf install slirp4netns)"
	}
	return "install passt for pasta (Debian/Ubuntu: sudo apt-get install passt; Fedora: sudo dnf install passt) or slirp4netns"
}

// PastaSupport says whether the pasta at path is usable (err) and, if so,
// whether it is older than passt 2024_08_21 (old), for nook info.
func PastaSupport(path string) (old bool, err error) {
	sup, err := checkPasta(path)
	return sup.Old, err
}

// DefaultMode is what a container gets without --network, for nook info.
func DefaultMode() Mode {
	m, _, _ := Binaries{}.Default()
	return m
}
