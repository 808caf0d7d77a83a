package usertest

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// udpechodMain is the udpechod program, a UDP echo server for a container
// (the test binary is static, so a script can bind it into one):
//
//	udpechod PORT [udp|udp4|udp6]
//
// answers every datagram on PORT with "echo: " and the datagram; the
// socket is dual-stack (udp) unless said otherwise.
func udpechodMain() int {
	if len(os.Args) != 2 && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: udpechod PORT [udp|udp4|udp6]")
		return 2
	}
	network := "udp"
	if len(os.Args) == 3 {
		network = os.Args[2]
	}
	c, err := net.ListenPacket(network, ":"+os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpechod: %v\n", err)
		return 1
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "udpechod: %v\n", err)
			return 1
		}
		c.WriteTo(append([]byte("echo: "), buf[:n]...), from)
	}
}

// dnsdMain is the dnsd program, a DNS server for the A records it is
// given, which runs a command once it listens:
//
//	dnsd ADDR NAME=IPV4... -- PROG [ARG...]
//
// serves on UDP ADDR (e.g. 127.0.0.1:53), answers NAME with IPV4 and
// everything else with NXDOMAIN, and exits with PROG's status. Each
// query's name is printed on standard error.
func dnsdMain() int {
	args := os.Args[1:]
	sep := -1
	for i, a := range args {
		if a == "--" {
			sep = i
			break
		}
	}
	if len(args) < 1 || sep < 1 || sep == len(args)-1 {
		fmt.Fprintln(os.Stderr, "usage: dnsd ADDR NAME=IPV4... -- PROG [ARG...]")
		return 2
	}
	records := make(map[string][4]byte)
	for _, r := range args[1:sep] {
		name, ip, ok := strings.Cut(r, "=")
		a, err := netip.ParseAddr(ip)
		if !ok || err != nil || !a.Is4() {
			fmt.Fprintf(os.Stderr, "dnsd: bad record %q (NAME=IPV4)\n", r)
			return 2
		}
		records[strings.TrimSuffix(strings.ToLower(name), ".")+"."] = a.As4()
	}
	c, err := net.ListenPacket("udp", args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "dnsd: %v\n", err)
		return 1
	}
	go serveDNS(c, records)
	cmd := exec.Command(args[sep+1], args[sep+2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "dnsd: %v\n", err)
		return 1
	}
	return 0
}

func serveDNS(c net.PacketConn, records map[string][4]byte) {
	buf := make([]byte, 512)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		fmt.Fprintf(os.Stderr, "dnsd: query %s %s\n", q.Name, q.Type)
		ip, found := records[strings.ToLower(q.Name.String())]
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
		if !found {
			rh.RCode = dnsmessage.RCodeNameError
		}
		b := dnsmessage.NewBuilder(nil, rh)
		b.EnableCompression()
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		if found && q.Type == dnsmessage.TypeA {
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: ip})
		}
		out, err := b.Finish()
		if err != nil {
			continue
		}
		c.WriteTo(out, from)
	}
}
