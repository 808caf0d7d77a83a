package run

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// writeEtcFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into its state directory and returns the bind mounts
// that put them in place, as Docker does.
func writeEtcFiles(cfg Config) ([]Mount, error) {
	files := []struct{ name, content string }{
		{"hostname", cfg.Hostname + "\n"},
		{"hosts", hostsFile(cfg.Hostname)},
		{"resolv.conf", resolvConf(readFileOrEmpty("/etc/resolv.conf"), cfg.HostNetwork)},
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

func hostsFile(hostname string) string {
	return "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"127.0.1.1\t" + hostname + "\n"
}

// resolvConf is the host's resolv.conf for the container. In a network
// namespace of its own a loopback name server of the host is out of
// reach, so those lines go.
func resolvConf(host []byte, hostNetwork bool) string {
	if hostNetwork {
		return string(host)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() {
				continue
			}
		}
		out.WriteString(line + "\n")
	}
	return out.String()
}

func readFileOrEmpty(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}
