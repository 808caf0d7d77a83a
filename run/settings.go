package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nookrun/nook/cgroupdeleg"
	"github.com/nookrun/nook/internal/atomicfile"
	"github.com/nookrun/nook/network"
)

// Settings are what a container was created with, kept beside its record
// (settings.json) so that nook start, nook restart and the restart policy
// run it again as it first ran: same image layers, command, volumes,
// network and limits, on the same upper. They are written once, by
// nook run; nothing changes them afterwards.
type Settings struct {
	// Layers are the image's indexed layer tars, bottom first.
	Layers   []string `json:"layers"`
	Hostname string   `json:"hostname"`
	Process  Process  `json:"process"`
	// Interactive is -i: the workload's stdin stays open (for attach).
	Interactive bool `json:"interactive,omitempty"`
	// StopSignal is the image's or --stop-signal's (0: SIGTERM), and
	// StopTimeout --stop-timeout's seconds before nook stop kills.
	StopSignal  int     `json:"stopSignal,omitempty"`
	StopTimeout int     `json:"stopTimeout"`
	Mounts      []Mount `json:"mounts,omitempty"`
	ReadOnly    bool    `json:"readOnly,omitempty"`
	// Network is the --network the container asked for ("" for the
	// default, decided again at every start); the record keeps the mode
	// it got and the published ports.
	Network    string              `json:"network,omitempty"`
	DNS        network.DNS         `json:"dns"`
	ExtraHosts []network.HostEntry `json:"extraHosts,omitempty"`
	HostUser   HostUser            `json:"hostUser"`
	// Resources are the resource flags, planned into a cgroup again at
	// every start.
	Resources Resources `json:"resources"`
	// Restart is --restart.
	Restart RestartPolicy `json:"restart"`
	// LogMaxSize and LogMaxFiles are --log-opt max-size and max-file.
	LogMaxSize  int64 `json:"logMaxSize,omitempty"`
	LogMaxFiles int   `json:"logMaxFiles,omitempty"`
}

// Resources are a container's resource flags.
type Resources struct {
	// Cgroups is --cgroups: "enabled" or "disabled".
	Cgroups      string             `json:"cgroups"`
	Parent       string             `json:"parent,omitempty"`
	Limits       cgroupdeleg.Limits `json:"limits"`
	MemoryRlimit bool               `json:"memoryRlimit,omitempty"`
}

const settingsFile = "settings.json"

// SaveSettings writes the container's settings, durably: a container
// without them cannot be started again.
func (c *Container) SaveSettings(s *Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode container %s's settings: %w", c.ShortID(), err)
	}
	return atomicfile.WriteFile(filepath.Join(c.dir, settingsFile), b, atomicfile.Options{Durable: true})
}

// Settings reads the container's settings.
func (c *Container) Settings() (*Settings, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, settingsFile))
	if err != nil {
		return nil, fmt.Errorf("read container %s's settings: %w", c.Name, err)
	}
	s := &Settings{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("read container %s's settings: %w", c.Name, err)
	}
	return s, nil
}

// RestartPolicy is --restart, kept by the container's monitor.
type RestartPolicy struct {
	// Name is "no", "on-failure", "always" or "unless-stopped" (which,
	// without a daemon to restart at boot, is "always").
	Name string `json:"name"`
	// MaxRetries bounds on-failure's restarts; 0 is no bound.
	MaxRetries int `json:"maxRetries,omitempty"`
}

// ParseRestartPolicy reads --restart: no, on-failure[:N], always,
// unless-stopped.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", "no":
		p.Name = "no"
	case "always", "unless-stopped":
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("invalid --restart %q: the retry count must be a number, 0 or more (on-failure:3)", s)
			}
			p.MaxRetries = n
		}
		return p, nil
	default:
		return p, fmt.Errorf("invalid --restart %q: use no, on-failure[:N], always or unless-stopped", s)
	}
	if hasCount {
		return p, fmt.Errorf("invalid --restart %q: only on-failure takes a retry count", s)
	}
	return p, nil
}

func (p RestartPolicy) String() string {
	if p.Name == "on-failure" && p.MaxRetries > 0 {
		return fmt.Sprintf("on-failure:%d", p.MaxRetries)
	}
	if p.Name == "" {
		return "no"
	}
	return p.Name
}

// Restarts says whether a workload that ended with code after restarts
// restarts earlier is started again. A container stopped by the user
// (nook stop, nook kill) never is.
func (p RestartPolicy) Restarts(code, restarts int, stopped bool) bool {
	if stopped {
		return false
	}
	switch p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaxRetries == 0 || restarts < p.MaxRetries)
	}
	return false
}
