package run

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/nookrun/nook/network"
)

// writeEtcFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into its state directory and returns the bind mounts
// that put them in place, as Docker does.
func writeEtcFiles(cfg Config) ([]Mount, error) {
	kind := cfg.Network.EtcKind()
	hosts, err := network.Hosts(cfg.Hostname, kind, cfg.ExtraHosts)
	if err != nil {
		return nil, err
	}
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	files := []struct{ name, content string }{
		{"hostname", cfg.Hostname + "\n"},
		{"hosts", hosts},
		{"resolv.conf", network.ResolvConf(hostResolv, kind, cfg.DNS)},
	}
	var mounts []Mount
	for _, f := range files {
		p := filepath.Join(cfg.StateDir, f.name)
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return nil, fmt.Errorf("write the container's /etc/%s: %w", f.name, err)
		}
		mounts = append(mounts, Mount{Type: "bind", Source: p, Target: "/etc/" + f.name, File: true})
	}
	return mounts, nil
}
