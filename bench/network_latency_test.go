package bench

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// latencyConns is how many connections one round times; the metric is
// the median over every round's connections.
const latencyConns = 101

// readyTimeout bounds how long a serving container may take to answer
// through its published port; readyPoll is the pause between attempts,
// so that polling does not take a core from the container starting up.
const (
	readyTimeout = 60 * time.Second
	readyPoll    = 5 * time.Millisecond
)

// httpRequest is the small request of a latency measurement: HTTP/1.0,
// so httpd answers and closes.
const httpRequest = "GET /index.html HTTP/1.0\r\nHost: bench\r\n\r\n"

// fetch makes a fresh TCP connection to addr, sends httpRequest and reads
// the whole response, and returns how long that took, from before the
// connect to the end of the response. The response must be httpd's 200
// with netIndexHTML: a forwarder that accepts the connection but cannot
// reach the container closes it without one.
func fetch(addr string) (time.Duration, error) {
	start := time.Now()
	conn, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(start.Add(10 * time.Second)); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(conn, httpRequest); err != nil {
		return 0, fmt.Errorf("send a request to %s: %w", addr, err)
	}
	resp, err := io.ReadAll(conn)
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("read the response from %s: %w", addr, err)
	}
	text := string(resp)
	status, _, _ := strings.Cut(text, "\r\n")
	if !strings.HasPrefix(status, "HTTP/1.") || !strings.Contains(status, " 200") || !strings.HasSuffix(text, netIndexHTML) {
		return 0, fmt.Errorf("%s answered %q, want httpd's 200 with %q", addr, clipText(text), netIndexHTML)
	}
	return took, nil
}

// connLatencies times latencyConns fetches from addr, one after another,
// in milliseconds.
func connLatencies(addr string) ([]float64, error) {
	ms := make([]float64, 0, latencyConns)
	for i := range latencyConns {
		d, err := fetch(addr)
		if err != nil {
			return nil, fmt.Errorf("connection %d of %d: %w", i+1, latencyConns, err)
		}
		ms = append(ms, float64(d.Nanoseconds())/1e6)
	}
	return ms, nil
}

// clipText shortens a response for an error message.
func clipText(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
