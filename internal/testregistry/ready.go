package testregistry

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pollInterval is how often waitReady asks again: nothing announces that
// the registry listens, so the readiness check polls.
const pollInterval = 10 * time.Millisecond

// waitReady polls GET /v2/ until the registry answers as a registry, the
// process exits, ctx ends or timeout passes.
func (r *Registry) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + r.host + "/v2/"
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	var last error
	for {
		ok, err := r.listening()
		if ok {
			ok, err = r.answers(ctx, client, url)
		}
		if ok {
			return nil
		}
		last = err
		select {
		case <-r.exited:
			return r.exitedEarly()
		case <-ctx.Done():
			return fmt.Errorf("%w: GET %s for %v: %v (last answer: %v); log: %s", ErrNotReady, url, timeout, ctx.Err(), last, r.logTail())
		case <-ticker.C:
		}
	}
}

// listening reports whether the registry process itself listens on its
// port (see listens).
func (r *Registry) listening() (bool, error) {
	_, p, _ := strings.Cut(r.host, ":")
	port, err := strconv.Atoi(p)
	if err != nil {
		return false, fmt.Errorf("port of %s: %w", r.host, err)
	}
	ok, err := listens(r.cmd.Process.Pid, port)
	if err == nil && !ok {
		err = fmt.Errorf("process %d does not listen on %s yet", r.cmd.Process.Pid, r.host)
	}
	return ok, err
}

func (r *Registry) exitedEarly() error {
	return fmt.Errorf("%w: docker-registry exited (%v): %s", ErrNotReady, r.waitErr, r.logTail())
}

// answers reports whether GET /v2/ got a registry's answer: 200, or 401
// when auth is on, with the distribution API header.
func (r *Registry) answers(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	want := http.StatusOK
	if r.user != "" {
		want = http.StatusUnauthorized
	}
	if resp.StatusCode != want || resp.Header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
		return false, fmt.Errorf("status %s, API version %q", resp.Status, resp.Header.Get("Docker-Distribution-Api-Version"))
	}
	return true, nil
}
