package network

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// DNS is --dns, --dns-search and --dns-option.
type DNS struct {
	Servers, Search, Options []string
}

// HostEntry is one --add-host: Name resolves to IP, which may be
// "host-gateway" (the host, as the container reaches it).
type HostEntry struct {
	Name, IP string
}

// HostGateway is --add-host's name for the host.
const HostGateway = "host-gateway"

// ParseAddHost parses --add-host NAME:IP (or Docker's newer NAME=IP).
func ParseAddHost(s string) (HostEntry, error) {
	name, ip, ok := strings.Cut(s, "=")
	if !ok {
		name, ip, ok = strings.Cut(s, ":")
	}
	ip = strings.Trim(ip, "[]")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return HostEntry{}, fmt.Errorf("invalid --add-host %q: expected NAME:IP (e.g. db:10.0.0.5 or host:host-gateway)", s)
	}
	if ip != HostGateway {
		if _, err := netip.ParseAddr(ip); err != nil {
			return HostEntry{}, fmt.Errorf("invalid --add-host %q: %q is not an IP address or host-gateway", s, ip)
		}
	}
	return HostEntry{Name: name, IP: ip}, nil
}

// ParseDNSServer checks one --dns.
func ParseDNSServer(s string) error {
	if _, err := netip.ParseAddr(s); err != nil {
		return fmt.Errorf("invalid --dns %q: not an IP address", s)
	}
	return nil
}

// hostAddress is how a container of kind k reaches the host: through the
// gateway, which pasta and slirp4netns map to the host's loopback; in the
// host's namespace, the loopback itself. None has no way.
func hostAddress(k Kind) (string, bool) {
	switch k {
	case Pasta, Slirp4netns:
		return GatewayIP, true
	case Host:
		return "127.0.0.1", true
	}
	return "", false
}

// Hosts is the container's /etc/hosts: localhost, the container's name
// at its address, host.containers.internal (Podman's name for the host)
// when the host is reachable, and the --add-host entries.
func Hosts(hostname string, k Kind, extra []HostEntry) (string, error) {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	self := "127.0.1.1"
	if k == Pasta || k == Slirp4netns {
		self = ContainerIP
	}
	fmt.Fprintf(&b, "%s\t%s\n", self, hostname)
	host, reachable := hostAddress(k)
	if reachable && k != Host {
		fmt.Fprintf(&b, "%s\thost.containers.internal host.docker.internal\n", host)
	}
	for _, e := range extra {
		ip := e.IP
		if ip == HostGateway {
			if !reachable {
				return "", fmt.Errorf("--add-host %s:host-gateway: with --network %s the container cannot reach the host; use --network pasta or slirp4netns", e.Name, k)
			}
			ip = host
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, e.Name)
	}
	return b.String(), nil
}

// ResolvConf is the container's /etc/resolv.conf, made from the host's.
// In the host's namespace it is the host's. Behind pasta or slirp4netns
// the name server is the driver's DNS forwarder, which sends queries on
// to the host's resolvers from the host's side, loopback ones
// (systemd-resolved, dnsmasq) included. With loopback only, a host
// loopback resolver is out of reach and its lines go. --dns, --dns-search
// and --dns-option replace the host's lines of their kind.
func ResolvConf(host []byte, k Kind, dns DNS) string {
	var servers, search, options, other []string
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				continue
			}
			if a, err := netip.ParseAddr(f[1]); err == nil && a.IsLoopback() && k != Host {
				continue
			}
			servers = append(servers, f[1])
		case "search", "domain":
			search = append(search, f[1:]...)
		case "options":
			options = append(options, f[1:]...)
		default:
			other = append(other, line)
		}
	}
	if k == Pasta || k == Slirp4netns {
		servers = []string{DNSIP}
	}
	if dns.Servers != nil {
		servers = dns.Servers
	}
	if dns.Search != nil {
		search = dns.Search
		if len(search) == 1 && search[0] == "." {
			search = nil // Docker's way to say no search domains
		}
	}
	if dns.Options != nil {
		options = dns.Options
	}
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	for _, l := range other {
		b.WriteString(l + "\n")
	}
	return b.String()
}
