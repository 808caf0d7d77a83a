package network

import (
	"strings"
	"testing"
)

func TestResolvConf(t *testing.T) {
	host := []byte("# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0 trust-ad\nsortlist 10.0.0.0\n")
	tests := []struct {
		kind Kind
		dns  DNS
		want string
	}{
		{Pasta, DNS{}, "nameserver 10.0.2.3\nsearch corp.example\noptions edns0 trust-ad\nsortlist 10.0.0.0\n"},
		{Slirp4netns, DNS{Servers: []string{"192.0.2.53"}, Search: []string{"."}, Options: []string{"ndots:2"}}, "nameserver 192.0.2.53\noptions ndots:2\nsortlist 10.0.0.0\n"},
		{None, DNS{}, "nameserver 192.0.2.1\nsearch corp.example\noptions edns0 trust-ad\nsortlist 10.0.0.0\n"},
		{Host, DNS{}, "nameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0 trust-ad\nsortlist 10.0.0.0\n"},
	}
	for _, tt := range tests {
		if got := ResolvConf(host, tt.kind, tt.dns); got != tt.want {
			t.Errorf("ResolvConf(%s, %+v) =\n%s\nwant\n%s", tt.kind, tt.dns, got, tt.want)
		}
	}
}

func TestHosts(t *testing.T) {
	got, err := Hosts("box", Slirp4netns, []HostEntry{{"db", "192.0.2.10"}, {"host", HostGateway}})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"127.0.0.1\tlocalhost", "10.0.2.100\tbox", "10.0.2.2\thost.containers.internal host.docker.internal", "192.0.2.10\tdb", "10.0.2.2\thost"} {
		if !strings.Contains(got, line+"\n") {
			t.Errorf("Hosts lacks %q:\n%s", line, got)
		}
	}
	got, err = Hosts("box", Host, []HostEntry{{"me", HostGateway}})
	if err != nil || !strings.Contains(got, "127.0.0.1\tme\n") || strings.Contains(got, "host.containers.internal") {
		t.Errorf("Hosts with host network = %q, %v", got, err)
	}
	if _, err := Hosts("box", None, []HostEntry{{"h", HostGateway}}); err == nil {
		t.Error("host-gateway with --network none was accepted")
	}
}

func TestParseAddHost(t *testing.T) {
	for in, want := range map[string]HostEntry{
		"db:192.0.2.1":   {"db", "192.0.2.1"},
		"db=192.0.2.1":   {"db", "192.0.2.1"},
		"v6:2001:db8::1": {"v6", "2001:db8::1"},
		"v6=[::1]":       {"v6", "::1"},
		"h:host-gateway": {"h", HostGateway},
	} {
		if got, err := ParseAddHost(in); err != nil || got != want {
			t.Errorf("ParseAddHost(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"nocolon", ":1.2.3.4", "h:nope", "a b:1.2.3.4"} {
		if _, err := ParseAddHost(in); err == nil {
			t.Errorf("ParseAddHost(%q) succeeded", in)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{
		"":            {},
		"bridge":      {},
		"pasta":       {Kind: Pasta},
		"none":        {Kind: None},
		"container:x": {Kind: Container, Container: "x"},
	} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"container:", "ovs", "slirp"} {
		if _, err := ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) succeeded", in)
		}
	}
}
