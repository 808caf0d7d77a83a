package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// iperfSeconds is how long each iperf3 run measures, after iperfOmit
// seconds it leaves out (TCP's slow start, and the forwarder's first
// buffers), so a run takes iperfSeconds + iperfOmit.
const (
	iperfSeconds = 3
	iperfOmit    = 1
)

// iperfTimeout bounds one iperf3 client run, connection included.
const iperfTimeout = 60 * time.Second

// iperfArgs are the client options every iperf3 run uses: one TCP stream,
// the times above, JSON output.
func iperfArgs() []string {
	return []string{"-t", strconv.Itoa(iperfSeconds), "-O", strconv.Itoa(iperfOmit), "-J"}
}

// iperfReport is the part of iperf3's -J output the benchmark reads.
type iperfReport struct {
	End struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
	Error string `json:"error"`
}

// iperfGbits reads an iperf3 client's -J output and returns the rate the
// receiver measured, in Gbit/s.
func iperfGbits(out string) (float64, error) {
	var r iperfReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return 0, fmt.Errorf("read iperf3's JSON report: %w: %s", err, tail(out))
	}
	if r.Error != "" {
		return 0, fmt.Errorf("iperf3: %s", r.Error)
	}
	if r.End.SumReceived.BitsPerSecond <= 0 {
		return 0, fmt.Errorf("iperf3's report has no received rate: %s", tail(out))
	}
	return r.End.SumReceived.BitsPerSecond / 1e9, nil
}

// iperfFailure explains a failed client run: iperf3 -J puts its own
// error in the JSON on standard output, the runner's error has the exit
// status and standard error.
func iperfFailure(out string, err error) error {
	var r iperfReport
	if json.Unmarshal([]byte(out), &r) == nil && r.Error != "" {
		return fmt.Errorf("%w (iperf3: %s)", err, r.Error)
	}
	return err
}

// hostToContainer runs an iperf3 client on the host against the server in
// the container, through the published port on 127.0.0.1, and returns the
// rate in Gbit/s. It runs from the benchmark's process, which shares the
// host's network namespace (nstest makes only a user and a mount
// namespace): the host runner is busy with the container meanwhile.
func hostToContainer(port int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), iperfTimeout)
	defer cancel()
	args := append([]string{"-c", "127.0.0.1", "-p", strconv.Itoa(port)}, iperfArgs()...)
	cmd := exec.CommandContext(ctx, iperf3Path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("iperf3 %s: %w: %s", strings.Join(args, " "), err, tail(stderr.String()))
		return 0, iperfFailure(string(out), err)
	}
	return iperfGbits(string(out))
}

// hostIperf is the iperf3 server on the host's loopback that the
// containers' clients reach through their gateway. It serves one test at
// a time and, between tests, closes its listening socket and opens a new
// one; it says "Server listening on PORT" each time it has (--forceflush
// makes the line arrive at once), and wait takes one such line per test,
// so a client never meets the gap.
type hostIperf struct {
	cmd       *exec.Cmd
	port      int
	listening chan struct{}
	exited    chan error
	stderr    bytes.Buffer
}

// startHostIperf starts the server on a free port of 127.0.0.1, as a
// child of the benchmark's process (in the host's network namespace).
func startHostIperf() (*hostIperf, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	h := &hostIperf{port: ports[0], listening: make(chan struct{}, 64), exited: make(chan error, 1)}
	h.cmd = exec.Command(iperf3Path, "-s", "-B", "127.0.0.1", "-p", strconv.Itoa(h.port), "--forceflush")
	h.cmd.Stderr = &h.stderr
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start the host's iperf3 server: %w", err)
	}
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the host's iperf3 server: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Server listening on") {
				h.listening <- struct{}{}
			}
		}
		h.exited <- h.cmd.Wait()
	}()
	return h, nil
}

// wait blocks until the server listens for the next test.
func (h *hostIperf) wait() error {
	select {
	case <-h.listening:
		return nil
	case err := <-h.exited:
		h.exited <- err
		return fmt.Errorf("the host's iperf3 server on 127.0.0.1:%d ended: %v: %s", h.port, err, tail(h.stderr.String()))
	case <-time.After(iperfTimeout):
		return fmt.Errorf("the host's iperf3 server on 127.0.0.1:%d is not listening after %s", h.port, iperfTimeout)
	}
}

// close stops the server.
func (h *hostIperf) close() error {
	if err := h.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("stop the host's iperf3 server: %w", err)
	}
	<-h.exited
	return nil
}

// freePorts picks n distinct free TCP ports on 127.0.0.1: the kernel
// chooses each (bind to port 0), all are held until all are chosen, then
// released for the caller to use.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port on 127.0.0.1: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// portsFree checks that nothing listens on the ports any more: a
// forwarder left behind would hold its published port. Like noLeftovers
// it gives the driver's processes leftoverTimeout to end (podman's
// rootlessport lets go of its ports only after podman run has returned).
func portsFree(ports ...int) error {
	deadline := time.Now().Add(leftoverTimeout)
	for {
		var errs []error
		for _, p := range ports {
			ln, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				errs = append(errs, fmt.Errorf("published port 127.0.0.1:%d is still in use %s after the container ended: %w", p, leftoverTimeout, err))
				continue
			}
			ln.Close()
		}
		if len(errs) == 0 || time.Now().After(deadline) {
			return errors.Join(errs...)
		}
		time.Sleep(leftoverPoll)
	}
}
