package network

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePublish(t *testing.T) {
	tests := []struct {
		in   string
		want []PortMapping
		err  string
	}{
		{in: "8080:80", want: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{in: "80", want: []PortMapping{{ContainerPort: 80, Protocol: "tcp"}}},
		{in: "127.0.0.1:8080:80/udp", want: []PortMapping{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "udp"}}},
		{in: "127.0.0.1::80", want: []PortMapping{{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}}},
		{in: "[::1]:8080:80", want: []PortMapping{{HostIP: "::1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		{in: "8000-8001:80-81/TCP", want: []PortMapping{
			{HostPort: 8000, ContainerPort: 80, Protocol: "tcp"},
			{HostPort: 8001, ContainerPort: 81, Protocol: "tcp"},
		}},
		{in: "8000-8002:80-81", err: "differ in length"},
		{in: "80-81", err: "needs a host port range"},
		{in: "8080:80/sctp", err: `protocol "sctp"`},
		{in: "0:80", err: "not a port number"},
		{in: "65536:80", err: "not a port number"},
		{in: "host:8080:80", err: "not an IP address"},
		{in: "1:2:3:4", err: "too many colons"},
		{in: "9-8:1-2", err: "ends before it starts"},
		{in: "[::1:8080:80", err: "unclosed ["},
	}
	for _, tt := range tests {
		got, err := ParsePublish(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePublish(%q) = %v, %v; want error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePublish(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestExposedPorts(t *testing.T) {
	got, err := ExposedPorts(map[string]struct{}{"53/udp": {}, "80/tcp": {}, "8000-8001": {}})
	if err != nil {
		t.Fatal(err)
	}
	want := []PortMapping{
		{ContainerPort: 53, Protocol: "udp"},
		{ContainerPort: 80, Protocol: "tcp"},
		{ContainerPort: 8000, Protocol: "tcp"},
		{ContainerPort: 8001, Protocol: "tcp"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExposedPorts = %v, want %v", got, want)
	}
	if _, err := ExposedPorts(map[string]struct{}{"80/sctp": {}}); err == nil {
		t.Error("ExposedPorts took 80/sctp")
	}
}

func TestPortMappingString(t *testing.T) {
	for m, want := range map[PortMapping]string{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}:                  "0.0.0.0:8080->80/tcp",
		{HostIP: "::1", HostPort: 53, ContainerPort: 5353, Protocol: "udp"}:   "[::1]:53->5353/udp",
		{HostIP: "127.0.0.1", HostPort: 1, ContainerPort: 2, Protocol: "tcp"}: "127.0.0.1:1->2/tcp",
	} {
		if got := m.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", m, got, want)
		}
	}
}

func TestPastaForwards(t *testing.T) {
	got := pastaForwards([]PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
	})
	want := []string{"-t", "8080:80", "-u", "127.0.0.1/5353:53"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pastaForwards = %q, want %q", got, want)
	}
	// Nothing published: nothing forwarded (pasta's default is "auto").
	if got := pastaForwards(nil); !reflect.DeepEqual(got, []string{"-t", "none", "-u", "none"}) {
		t.Errorf("pastaForwards(nil) = %q", got)
	}
}
