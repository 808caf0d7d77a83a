package cgroupdeleg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

// The systemd manager's D-Bus names.
const (
	systemdService   = "org.freedesktop.systemd1"
	systemdPath      = "/org/freedesktop/systemd1"
	systemdInterface = "org.freedesktop.systemd1.Manager"
)

// scopeTimeout bounds the whole conversation with systemd.
const scopeTimeout = 10 * time.Second

// ErrNoSystemd is a user without a systemd manager nook can reach.
var ErrNoSystemd = errors.New("no systemd user manager to ask")

// StartScope asks the user's systemd manager for a transient scope unit
// with Delegate=yes and this process in it, and waits until systemd has
// moved it there; Find(Options{InScope: true}) then finds the scope. It
// talks D-Bus over the session bus, or straight to the manager's private
// socket when there is no bus (as systemctl --user does).
//
// Untested against a real systemd: the test machines have none.
func StartScope(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, scopeTimeout)
	defer cancel()
	conn, bus, err := dialUserManager(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	name, err := scopeName()
	if err != nil {
		return "", err
	}
	signals := make(chan *dbus.Signal, 64)
	conn.Signal(signals)
	if bus {
		// On a bus, signals come only to those who asked for them.
		if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchInterface(systemdInterface), dbus.WithMatchMember("JobRemoved")); err != nil {
			return "", fmt.Errorf("ask systemd for a delegated scope: subscribe to job events: %w", err)
		}
	}
	manager := conn.Object(systemdService, systemdPath)
	// The manager sends job events only to subscribed clients.
	if err := manager.CallWithContext(ctx, systemdInterface+".Subscribe", 0).Err; err != nil {
		return "", fmt.Errorf("ask systemd for a delegated scope: subscribe: %w", err)
	}
	var job dbus.ObjectPath
	err = manager.CallWithContext(ctx, systemdInterface+".StartTransientUnit", 0,
		name, "fail", scopeProperties(os.Getpid()), []auxUnit{}).Store(&job)
	if err != nil {
		return "", fmt.Errorf("ask systemd for a delegated scope %s: %w", name, err)
	}
	for {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("ask systemd for a delegated scope %s: no answer: %w", name, ctx.Err())
		case s := <-signals:
			if s == nil || s.Name != systemdInterface+".JobRemoved" || len(s.Body) < 4 {
				continue
			}
			if path, _ := s.Body[1].(dbus.ObjectPath); path != job {
				continue
			}
			if result, _ := s.Body[3].(string); result != "done" {
				return "", fmt.Errorf("ask systemd for a delegated scope %s: the job ended %q", name, result)
			}
			return name, nil
		}
	}
}

// property is one (name, value) of a unit, D-Bus signature (sv).
type property struct {
	Name  string
	Value dbus.Variant
}

// auxUnit is StartTransientUnit's a(sa(sv)) of units started alongside.
type auxUnit struct {
	Name  string
	Props []property
}

// scopeProperties are the scope's: pid in it, delegated, collected when
// it ends even if it failed.
func scopeProperties(pid int) []property {
	return []property{
		{"Description", dbus.MakeVariant("nook containers")},
		{"PIDs", dbus.MakeVariant([]uint32{uint32(pid)})},
		{"Delegate", dbus.MakeVariant(true)},
		{"CollectMode", dbus.MakeVariant("inactive-or-failed")},
	}
}

// scopeName is a unit name of nook's own: nook-PID-RANDOM.scope.
func scopeName() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("name a scope: %w", err)
	}
	return fmt.Sprintf("nook-%d-%s.scope", os.Getpid(), hex.EncodeToString(b)), nil
}

// dialUserManager connects to the user's systemd manager: over the
// session bus (DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), or
// to the manager's private socket. bus is false for the private socket,
// which is not a bus (no Hello, no AddMatch).
func dialUserManager(ctx context.Context) (conn *dbus.Conn, bus bool, err error) {
	var errs []error
	if addr := sessionBusAddress(); addr != "" {
		conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
		if err == nil {
			return conn, true, nil
		}
		errs = append(errs, fmt.Errorf("session bus %s: %w", addr, err))
	}
	sock := userManagerSocket(os.Getuid())
	if _, err := os.Stat(sock); err == nil {
		conn, err := dbus.Dial("unix:path="+sock, dbus.WithContext(ctx))
		if err == nil {
			if err = conn.Auth(nil); err == nil {
				return conn, false, nil
			}
			conn.Close()
		}
		errs = append(errs, fmt.Errorf("systemd's private socket %s: %w", sock, err))
	}
	if len(errs) == 0 {
		return nil, false, fmt.Errorf("%w: no session bus and no %s", ErrNoSystemd, sock)
	}
	return nil, false, fmt.Errorf("%w: %w", ErrNoSystemd, errors.Join(errs...))
}

// sessionBusAddress is the session bus's address, without D-Bus's
// autolaunch (which would start a bus nobody needs).
func sessionBusAddress() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		p := filepath.Join(dir, "bus")
		if st, err := os.Stat(p); err == nil && st.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p
		}
	}
	return ""
}

// EnvInScope marks a nook restarted by systemd-run in a delegated scope,
// so that it does not ask again (see SystemdRunArgv).
const EnvInScope = "NOOK_SYSTEMD_SCOPE"

// SystemdRunArgv is the command line that starts exe with args again in
// a transient scope with Delegate=yes made by `systemd-run --user
// --scope`: the fallback when StartScope cannot reach systemd over
// D-Bus. systemd-run execs exe itself, so the restarted nook keeps the
// terminal, the environment (with EnvInScope=1 added by the caller) and
// the exit status. It fails when systemd-run is not installed.
func SystemdRunArgv(exe string, args []string) ([]string, error) {
	run, err := exec.LookPath("systemd-run")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSystemd, err)
	}
	argv := []string{run, "--user", "--scope", "--quiet", "--collect", "--property=Delegate=yes", "--description=nook containers", "--", exe}
	return append(argv, args...), nil
}
