package testregistry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Registry is a running docker-registry.
type Registry struct {
	host     string // 127.0.0.1:PORT
	dir      string
	user     string
	password string
	logPath  string

	cmd    *exec.Cmd
	exited chan struct{} // closed once the process is reaped
	// waitErr is cmd.Wait's result, set before exited closes.
	waitErr error

	stopOnce sync.Once
	stopErr  error
}

// Files in the registry's directory.
const (
	configFile   = "config.json"
	htpasswdFile = "htpasswd"
	logFile      = "registry.log"
	storageDir   = "storage"
)

// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// Start runs docker-registry with its configuration, log and storage in
// dir (made if missing; storage already there is served again, so a
// benchmark can keep its pushed images between runs) and returns once it
// answers GET /v2/. The caller must Stop it.
func Start(ctx context.Context, dir string, opts ...Option) (*Registry, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	bin, err := findBinary(o.binary)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, storageDir), 0o700); err != nil {
		return nil, fmt.Errorf("make registry storage in %s: %w", dir, err)
	}
	htpasswd := ""
	if o.user != "" {
		htpasswd = filepath.Join(dir, htpasswdFile)
		if err := writeHtpasswd(htpasswd, o.user, o.password); err != nil {
			return nil, err
		}
	}
	for try := 1; ; try++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r := &Registry{
			host:     "127.0.0.1:" + strconv.Itoa(port),
			dir:      dir,
			user:     o.user,
			password: o.password,
			logPath:  filepath.Join(dir, logFile),
		}
		if err := writeConfig(filepath.Join(dir, configFile), r.host, filepath.Join(dir, storageDir), htpasswd); err != nil {
			return nil, err
		}
		if err := r.start(bin); err != nil {
			return nil, err
		}
		err = r.waitReady(ctx, o.startTimeout)
		if err == nil {
			return r, nil
		}
		stopErr := r.Stop()
		if !r.portTaken() || try == portTries {
			return nil, errors.Join(err, stopErr)
		}
	}
}

// findBinary is path, else docker-registry on PATH, else Debian's.
func findBinary(path string) (string, error) {
	if path == "" {
		if p, err := exec.LookPath("docker-registry"); err == nil {
			return p, nil
		}
		path = defaultBinary
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoRegistry, err)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%w: %s is not an executable file", ErrNoRegistry, path)
	}
	return path, nil
}

// start starts the process. Its environment holds only PATH, so that no
// REGISTRY_* variable of the caller's overrides the configuration; it runs
// in /, so that no test takes it for a process of its own working
// directory; and it dies with the thread that started it should the
// caller die without Stop.
func (r *Registry) start(bin string) error {
	log, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("open registry log: %w", err)
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(bin, "serve", filepath.Join(r.dir, configFile))
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	r.cmd = cmd
	r.exited = make(chan struct{})
	go func() {
		r.waitErr = cmd.Wait()
		close(r.exited)
	}()
	return nil
}

// portTaken reports whether the registry exited because its port was in
// use.
func (r *Registry) portTaken() bool {
	return strings.Contains(r.logTail(), "address already in use")
}

// logTail is the end of the registry's log, for error messages.
func (r *Registry) logTail() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", r.logPath, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}

// Stop ends the registry by its pid: SIGTERM, then SIGKILL if it has not
// exited after stopGrace. It returns once the process is reaped, and only
// the first call does anything.
func (r *Registry) Stop() error {
	r.stopOnce.Do(func() { r.stopErr = r.stop() })
	return r.stopErr
}

func (r *Registry) stop() error {
	pid := r.cmd.Process.Pid
	select {
	case <-r.exited:
		return nil
	default:
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop registry (pid %d): %w", pid, err)
	}
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-r.exited:
		return nil
	case <-timer.C:
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill registry (pid %d): %w", pid, err)
	}
	<-r.exited
	return nil
}

// Host is the registry's host:port, the first part of its image
// references.
func (r *Registry) Host() string { return r.host }

// Dir is the directory holding the registry's configuration, log and
// storage.
func (r *Registry) Dir() string { return r.dir }

// PID is the registry process's pid.
func (r *Registry) PID() int { return r.cmd.Process.Pid }

// Ref is the full reference of repoTag ("repo:tag" or "repo@digest") in
// this registry.
func (r *Registry) Ref(repoTag string) string { return r.host + "/" + repoTag }

// Credentials are the user and password WithAuth set ("" without auth).
func (r *Registry) Credentials() (user, password string) { return r.user, r.password }

// Auth is what go-containerregistry authenticates to the registry with:
// basic auth with the credentials, or anonymous without auth.
func (r *Registry) Auth() authn.Authenticator {
	if r.user == "" {
		return authn.Anonymous
	}
	return &authn.Basic{Username: r.user, Password: r.password}
}

// Installed says whether Start could run the registry with opts: nil, or
// an error wrapping ErrNoRegistry or ErrNoHtpasswd that names the package
// to install.
func Installed(opts ...Option) error {
	o, err := applyOptions(opts)
	if err != nil {
		return err
	}
	if _, err := findBinary(o.binary); err != nil {
		return err
	}
	if o.user != "" {
		if _, err := exec.LookPath("htpasswd"); err != nil {
			return fmt.Errorf("%w: %v", ErrNoHtpasswd, err)
		}
	}
	return nil
}
