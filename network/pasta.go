package network

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// startPasta runs pasta for pid's network namespace. pasta joins the
// namespaces itself, makes and configures the tap and forwards the
// published ports (its own forwarding: splice in the kernel, and the
// client's address kept).
//
// pasta runs in the foreground as the monitor's child with a parent-death
// signal: a pasta that daemonized would outlive a killed monitor, since
// this pasta (Debian 12's) only quits by itself when a netns file it was
// given is deleted, not when the namespace's last process ends. Its pid
// file is a FIFO: pasta writes it once the network is up, which is the
// signal that it is ready.
//
// rootlesskit's pasta driver builds nearly this command line, but it
// always says --tcp-ports=none and has no way to pass port forwards, and
// it runs pasta in the background; so nook builds its own, with the same
// addresses and options.
func (a *Attached) startPasta(s Setup, pid int) error {
	fifo := filepath.Join(s.StateDir, "pasta.pid")
	os.Remove(fifo)
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		return fmt.Errorf("start pasta: %w", err)
	}
	// Opened read-write, so that neither this open nor pasta's blocks.
	pidPipe, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("start pasta: %w", err)
	}
	defer pidPipe.Close()
	args := []string{
		"--foreground",
		"--quiet",
		"--ns-ifname", tapName,
		"--mtu", strconv.Itoa(MTU),
		"--config-net",
		"--address", ContainerIP,
		"--netmask", strconv.Itoa(prefixLen),
		"--gateway", GatewayIP,
		"--dns-forward", DNSIP,
		"--ipv4-only",
		// Nothing of the host's loopback appears in the container's.
		"--tcp-ns", "none",
		"--udp-ns", "none",
		"--pid", fifo,
	}
	// An old pasta's UDP forwarding never delivers answers to clients on
	// the host's loopback; those ports go through the builtin driver.
	pastaPorts, ownPorts := s.Ports, []PortMapping(nil)
	if s.PastaOld {
		pastaPorts, ownPorts = splitUDP(s.Ports)
	}
	args = append(args, pastaForwards(pastaPorts)...)
	args = append(args, strconv.Itoa(pid))
	cmd := exec.Command(s.Binary, args...)
	out := &tailBuffer{}
	cmd.Stdout, cmd.Stderr = logTo(out, s.Log), logTo(out, s.Log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pasta: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	a.closers = append(a.closers, func() error {
		cmd.Process.Kill()
		<-exited
		return nil
	})
	ready := make(chan error, 1)
	go func() {
		_, err := pidPipe.Read(make([]byte, 32))
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			return fmt.Errorf("start pasta: read its pid file: %w", err)
		}
	case err := <-exited:
		exited <- err
		return fmt.Errorf("start pasta: %v: %s", err, pastaMessage(out.String()))
	case <-time.After(driverStartTimeout):
		return fmt.Errorf("start pasta: not ready after %s: %s", driverStartTimeout, pastaMessage(out.String()))
	}
	a.Interface = &Interface{Dev: tapName, IP: ContainerIP, PrefixLen: prefixLen, Gateway: GatewayIP, MTU: MTU}
	if len(ownPorts) > 0 {
		return a.forwardPorts(s, pid, ownPorts)
	}
	return nil
}

// splitUDP separates TCP mappings from UDP ones.
func splitUDP(ports []PortMapping) (tcp, udp []PortMapping) {
	for _, p := range ports {
		if p.Protocol == "udp" {
			udp = append(udp, p)
		} else {
			tcp = append(tcp, p)
		}
	}
	return tcp, udp
}

// pastaForwards are pasta's -t and -u options for the published ports
// ("none" for a protocol without any, since pasta's default is to
// forward every port bound in the namespace).
func pastaForwards(ports []PortMapping) []string {
	var tcp, udp []string
	for _, p := range ports {
		spec := fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		if p.HostIP != "" {
			spec = netip.MustParseAddr(p.HostIP).String() + "/" + spec
		}
		if p.Protocol == "udp" {
			udp = append(udp, "-u", spec)
		} else {
			tcp = append(tcp, "-t", spec)
		}
	}
	if tcp == nil {
		tcp = []string{"-t", "none"}
	}
	if udp == nil {
		udp = []string{"-u", "none"}
	}
	return append(tcp, udp...)
}

// pastaMessage is pasta's output without the syslog complaints it prints
// where there is no /dev/log.
func pastaMessage(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Failed to send") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return "no message"
	}
	return strings.Join(keep, "; ")
}
