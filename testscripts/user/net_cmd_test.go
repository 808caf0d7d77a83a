package usertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet fetches a URL from the host and prints its body, retrying
// refused and reset connections (a container still starting) until
// waitLimit:
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
		if time.Now().After(deadline) || !retryable(err) {
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

// cmdFreePort sets $VAR to a TCP and UDP port that is free on the host's
// loopback now:
//
//	freeport VAR
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	for range 100 {
		l, err := net.Listen("tcp", ":0")
		ts.Check(err)
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", ":"+strconv.Itoa(port)); err == nil {
			u.Close()
			ts.Setenv(args[0], strconv.Itoa(port))
			return
		}
	}
	ts.Fatalf("freeport: no port free for both TCP and UDP")
}
