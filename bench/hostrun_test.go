package bench

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkRun has to start containers the way a user does, from the host's
// namespaces: nook, podman, bwrap and unshare each make their own user
// namespace, and one made inside nstest's would measure something else
// (nested maps, no subordinate ids for "root"). But nstest.Main moves the
// whole test binary into a user namespace before any benchmark runs, and no
// process can leave a user namespace. So TestMain first starts a host
// runner in the process that stays on the host (nstest's outer stage, which
// only waits for the tests): it runs the commands the benchmarks send it
// and times each from start to exit.
//
//	benchmark (in nstest's namespace)      host runner (outer process)
//	hostRequest{Args, Env, Stdout}  ─────▶ fork, exec, wait
//	                                ◀───── hostResult{Wall, Stdout, Err}
//
// The socket is an abstract unix socket (no file to clean up when nstest
// exits the process); abstract sockets have no permissions, so the runner
// serves only peers with its own uid (SO_PEERCRED, which the kernel
// translates into the runner's namespace: nstest's root is our uid).
const envHostRunner = "NOOK_BENCH_HOST_RUNNER"

// hostRequest asks the host runner to run one command.
type hostRequest struct {
	Args []string // Args[0] is looked up in the runner's PATH
	Env  []string // KEY=VALUE, overriding the runner's environment
	// Stdout asks for the command's standard output (else discarded).
	Stdout bool
}

// hostResult is how the command went. Err is empty when it exited 0.
type hostResult struct {
	Wall   time.Duration // fork to reaped, measured by the runner
	Stdout string        // when asked for
	Err    string        // why it failed, with the end of its standard error
}

// startHostRunner listens on a new abstract socket, serves it from a
// goroutine for the life of the process, and names it in the environment
// that nstest passes to the namespaced test binary. Only the outermost
// process starts one: the namespaced stages inherit the variable.
func startHostRunner() error {
	if os.Getenv(envHostRunner) != "" {
		return nil
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return fmt.Errorf("make host runner socket name: %w", err)
	}
	name := fmt.Sprintf("@nook-bench-%d-%s", os.Getpid(), hex.EncodeToString(nonce[:]))
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen for host runner requests on %s: %w", name, err)
	}
	stderr, err := os.CreateTemp("", "nook-bench-host-stderr-")
	if err != nil {
		ln.Close()
		return fmt.Errorf("make host runner stderr file: %w", err)
	}
	// Unlinked at once: the open file is all the runner needs.
	os.Remove(stderr.Name())
	go serveHost(ln, stderr)
	return os.Setenv(envHostRunner, name)
}

// serveHost serves one connection at a time: the benchmarks that use it
// run one after another, and a second concurrent client would skew the
// first one's timings anyway.
func serveHost(ln *net.UnixListener, stderr *os.File) {
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			fmt.Fprintf(os.Stderr, "nook-bench host runner: accept: %v\n", err)
			return
		}
		if err := checkPeer(conn); err != nil {
			fmt.Fprintf(os.Stderr, "nook-bench host runner: %v\n", err)
			conn.Close()
			continue
		}
		serveConn(conn, stderr)
		conn.Close()
	}
}

func checkPeer(conn *net.UnixConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return fmt.Errorf("peer credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("refused a client with uid %d (serving uid %d only)", cred.Uid, os.Getuid())
	}
	return nil
}

func serveConn(conn *net.UnixConn, stderr *os.File) {
	dec := json.NewDecoder(bufio.NewReader(conn))
	enc := json.NewEncoder(conn)
	for {
		var req hostRequest
		if err := dec.Decode(&req); err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintf(os.Stderr, "nook-bench host runner: read request: %v\n", err)
			}
			return
		}
		if err := enc.Encode(runOnHost(req, stderr)); err != nil {
			fmt.Fprintf(os.Stderr, "nook-bench host runner: send result: %v\n", err)
			return
		}
	}
}

// runOnHost runs req. Standard error goes to a file, not a pipe: a pipe
// would make Wait also wait for every process that inherited it (podman's
// conmon outlives podman run), and the time would include theirs.
func runOnHost(req hostRequest, stderr *os.File) hostResult {
	if len(req.Args) == 0 {
		return hostResult{Err: "empty command"}
	}
	if err := stderr.Truncate(0); err != nil {
		return hostResult{Err: fmt.Sprintf("truncate stderr file: %v", err)}
	}
	if _, err := stderr.Seek(0, io.SeekStart); err != nil {
		return hostResult{Err: fmt.Sprintf("rewind stderr file: %v", err)}
	}
	cmd := exec.Command(req.Args[0], req.Args[1:]...)
	cmd.Env = append(hostEnviron(), req.Env...)
	cmd.Stderr = stderr
	var stdout *os.File
	if req.Stdout {
		f, err := os.CreateTemp("", "nook-bench-host-stdout-")
		if err != nil {
			return hostResult{Err: fmt.Sprintf("make stdout file: %v", err)}
		}
		os.Remove(f.Name())
		defer f.Close()
		cmd.Stdout, stdout = f, f
	}
	start := time.Now()
	err := cmd.Run()
	res := hostResult{Wall: time.Since(start)}
	if stdout != nil {
		res.Stdout = readBack(stdout)
	}
	if err != nil {
		res.Err = fmt.Sprintf("%s: %v: %s", strings.Join(req.Args, " "), err, tail(readBack(stderr)))
	}
	return res
}

// readBack reads what a command wrote to f, from the start.
func readBack(f *os.File) string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Sprintf("(rewind %s: %v)", f.Name(), err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", f.Name(), err)
	}
	return string(b)
}

// hostEnviron is the runner's environment without the runner's own name,
// which the commands have no use for.
func hostEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envHostRunner+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// hostClient is a benchmark's connection to the host runner.
type hostClient struct {
	conn *net.UnixConn
	enc  *json.Encoder
	dec  *json.Decoder
}

// dialHost connects to the runner TestMain started.
func dialHost() (*hostClient, error) {
	name := os.Getenv(envHostRunner)
	if name == "" {
		return nil, errors.New("no host runner: " + envHostRunner + " is unset (TestMain starts the runner; its error, if any, is on standard error)")
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connect to the host runner %s: %w", name, err)
	}
	return &hostClient{conn: conn, enc: json.NewEncoder(conn), dec: json.NewDecoder(bufio.NewReader(conn))}, nil
}

// run runs a command on the host with env added to the environment and
// returns its timing; a command that fails is an error.
func (h *hostClient) run(env []string, args ...string) (hostResult, error) {
	return h.do(hostRequest{Args: args, Env: env})
}

// output is run returning the command's standard output.
func (h *hostClient) output(env []string, args ...string) (string, error) {
	res, err := h.do(hostRequest{Args: args, Env: env, Stdout: true})
	return res.Stdout, err
}

func (h *hostClient) do(req hostRequest) (hostResult, error) {
	if err := h.enc.Encode(req); err != nil {
		return hostResult{}, fmt.Errorf("send %s to the host runner: %w", strings.Join(req.Args, " "), err)
	}
	var res hostResult
	if err := h.dec.Decode(&res); err != nil {
		return hostResult{}, fmt.Errorf("read the host runner's result of %s: %w", strings.Join(req.Args, " "), err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}

func (h *hostClient) close() error { return h.conn.Close() }
