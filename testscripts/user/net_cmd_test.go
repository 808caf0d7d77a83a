package usertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet fetches a URL from the host and prints its body, retrying
// refused and reset connections (a container still starting) until
// waitLimit; ! httpget tries once and fails if it got an answer (the
// server is known to be up by then):
//
//	httpget URL
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: httpget URL")
	}
	deadline := time.Now().Add(waitLimit)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get(args[0])
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				if neg {
					ts.Fatalf("httpget %s: got %q", args[0], body)
				}
				ts.Stdout().Write(body)
				return
			}
			err = fmt.Errorf("status %s, %v", resp.Status, rerr)
		}
		if neg || time.Now().After(deadline) || !retryable(err) {
			if neg {
				return
			}
			ts.Fatalf("httpget %s: %v", args[0], err)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, bounded by the deadline
	}
}

// retryable is a failure of a server that is not there yet: refused,
// reset or closed before it answered (a forwarder whose container side
// does not listen yet).
func retryable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF") ||
		strings.HasPrefix(err.Error(), "status ")
}

// cmdUDPEcho sends MSG to a UDP address until an answer comes (the
// server may not listen yet) and prints the answer:
//
//	udpecho HOST:PORT MSG
func cmdUDPEcho(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: udpecho HOST:PORT MSG")
	}
	c, err := net.Dial("udp", args[0])
	ts.Check(err)
	defer c.Close()
	deadline := time.Now().Add(waitLimit)
	buf := make([]byte, 65536)
	for time.Now().Before(deadline) {
		if _, err := c.Write([]byte(args[1])); err != nil && !strings.Contains(err.Error(), "refused") {
			ts.Fatalf("udpecho: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := c.Read(buf)
		if err == nil {
			fmt.Fprintf(ts.Stdout(), "%s\n", buf[:n])
			return
		}
	}
	ts.Fatalf("udpecho %s: no answer in %s", args[0], waitLimit)
}

// cmdHostServe starts an HTTP server on the host's loopback for the rest
// of the script, answering every request with BODY, and sets $HOSTPORT
// to its port:
//
//	hostserve BODY
func cmdHostServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hostserve BODY")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	body := args[0] + "\n"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body)
	})}
	go srv.Serve(l)
	ts.Defer(func() { srv.Shutdown(context.Background()) })
	ts.Setenv("HOSTPORT", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
}

// cmdFreePort sets $VAR to a port that is free on the host for both TCP
// and UDP now; with -n N, to the first of N consecutive free ports, and
// $VAR_1 ... $VAR_{N-1} to the others:
//
//	freeport [-n N] VAR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	n := 1
	if len(args) == 3 && args[0] == "-n" {
		var err error
		n, err = strconv.Atoi(args[1])
		ts.Check(err)
		args = args[2:]
	}
	if neg || len(args) != 1 || n < 1 {
		ts.Fatalf("usage: freeport [-n N] VAR")
	}
	for range 100 {
		l, err := net.Listen("tcp", ":0")
		ts.Check(err)
		first := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if first+n > 65536 || !portsFree(first, n) {
			continue
		}
		ts.Setenv(args[0], strconv.Itoa(first))
		for i := 1; i < n; i++ {
			ts.Setenv(fmt.Sprintf("%s_%d", args[0], i), strconv.Itoa(first+i))
		}
		return
	}
	ts.Fatalf("freeport: no %d consecutive ports free for both TCP and UDP", n)
}

// portsFree is true when n ports from first are free for TCP and UDP.
func portsFree(first, n int) bool {
	for p := first; p < first+n; p++ {
		l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", ":"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

// cmdHostAddr sets $VAR to one of the host's IPv4 addresses that is not
// loopback:
//
//	hostaddr VAR
func cmdHostAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hostaddr VAR")
	}
	addrs, err := net.InterfaceAddrs()
	ts.Check(err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			ts.Setenv(args[0], n.IP.String())
			return
		}
	}
	ts.Fatalf("hostaddr: the host has no IPv4 address but loopback")
}

// cmdStdoutVar sets $VAR to the first group of REGEX in the last
// command's standard output:
//
//	stdoutvar VAR REGEX
func cmdStdoutVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: stdoutvar VAR REGEX")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("stdoutvar: no match for %q (with a group) in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}
