package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// qemuBin is Debian's qemu-system-x86 (TCG needs nothing else).
const qemuBin = "qemu-system-x86_64"

// qboot is a tiny firmware that boots a -kernel faster than SeaBIOS; it
// comes with qemu-system-data.
const qboot = "/usr/share/qemu/qboot.rom"

// kernelArgs: the console on ttyS0, quiet; a crashed /init or an oops
// ends the VM at once (panic=-1 reboots, which -no-reboot turns into an
// exit); tsc=reliable because TCG's TSC fails the kernel's sync check and
// the fallback (hpet) makes every clock read trap; no crypto self-tests.
const kernelArgs = "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic tsc=reliable cryptomgr.notests"

// boot is how the VM ran.
type boot struct {
	timedOut bool
	// bootHung: /init never said it was ready within bootTimeout; the
	// VM was killed (a TCG boot now and then hangs before the kernel
	// prints a line; a second boot goes through).
	bootHung bool
	err      error         // qemu's exit, or nil
	wall     time.Duration // qemu start to exit
	// toReady is the host's time from qemu's start to /init's "ready"
	// line (boot, stage 1 and the setup), zero if it never came.
	toReady time.Duration
	// guestPayload is /init's measure of the payload, in seconds ("" if
	// it did not finish).
	guestPayload string
	// tail is the end of the console, for when the VM did not finish.
	tail []string
}

// qemuArgs is the command line: a PC (microvm has no timer that works
// under TCG), the results on a second serial port written to a file.
func qemuArgs(c config, k kernel, initrd, results string) []string {
	args := []string{"-M", "pc"}
	if _, err := os.Stat(qboot); err == nil {
		args = append(args, "-bios", qboot)
	}
	// TCG by default, even where /dev/kvm opens: on this project's
	// (nested) machines it opens, and qemu then aborts setting up the CPU.
	cpu := "max"
	if c.accel == "kvm" {
		cpu = "host"
	}
	args = append(args, "-accel", c.accel)
	kernelFile := k.vmlinuz
	if k.vmlinux != "" {
		kernelFile = k.vmlinux
	}
	return append(args,
		"-cpu", cpu, "-smp", fmt.Sprint(c.cpus), "-m", fmt.Sprintf("%dM", c.memory),
		"-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
		"-serial", "stdio", "-serial", "file:"+results,
		"-kernel", kernelFile, "-initrd", initrd, "-append", kernelArgs)
}

// defaultBootTimeout bounds qemu's start to /init's "ready" line
// (-boot-timeout): normally 4 s (busybox) or 18 s (systemd) under TCG, a
// minute or two on a loaded machine; a boot that has not got there by
// then has hung.
const defaultBootTimeout = 4 * time.Minute

// runQemu boots the VM and waits for it to power off, for at most
// c.timeout. The console goes to consoleLog with the host's time in front
// of each line; /init's progress lines (all of it with -v) also go to
// progress as they come.
func runQemu(ctx context.Context, c config, k kernel, initrd, runDir string, progress io.Writer) (boot, error) {
	var b boot
	if _, err := exec.LookPath(qemuBin); err != nil {
		return b, fmt.Errorf("no %s: install Debian's qemu-system-x86 (sudo apt-get install --no-install-recommends qemu-system-x86)", qemuBin)
	}
	logFile, err := os.Create(filepath.Join(runDir, "console.log"))
	if err != nil {
		return b, fmt.Errorf("make the console log: %w", err)
	}
	defer logFile.Close()
	args := qemuArgs(c, k, initrd, filepath.Join(runDir, "results.txt"))
	fmt.Fprintf(logFile, "# %s %s\n", qemuBin, strings.Join(args, " "))

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemuBin, args...)
	// qemu's stderr joins the console: its warnings belong there.
	r, w, err := os.Pipe()
	if err != nil {
		return b, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	// After a kill, do not wait long for the pipe's other holders.
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return b, fmt.Errorf("start %s: %w", qemuBin, err)
	}
	w.Close()
	ready := make(chan struct{})
	var bootHung atomic.Bool
	hung := time.AfterFunc(c.bootTimeout, func() {
		select {
		case <-ready:
		default:
			bootHung.Store(true)
			cancel()
		}
	})
	b.toReady, b.guestPayload, b.tail = followConsole(r, logFile, progress, start, c.verbose, ready)
	r.Close()
	b.err = cmd.Wait()
	hung.Stop()
	b.bootHung = bootHung.Load()
	b.wall = time.Since(start)
	switch {
	case b.bootHung:
		fmt.Fprintf(logFile, "# no ready line from /init within %v: boot hung, qemu killed\n", c.bootTimeout)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		b.timedOut = true
	case ctx.Err() != nil:
		return b, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return b, nil
}

// followConsole copies the console to log until qemu closes it, and picks
// out /init's timing lines.
// ready is closed at /init's "ready" line.
func followConsole(r io.Reader, log, progress io.Writer, start time.Time, verbose bool, ready chan<- struct{}) (toReady time.Duration, payload string, tail []string) {
	const tailLines = 40
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := strings.TrimRight(s.Text(), "\r")
		at := time.Since(start)
		stamped := fmt.Sprintf("%8.3f %s", at.Seconds(), line)
		fmt.Fprintln(log, stamped)
		if verbose || strings.HasPrefix(line, "VMTEST:") {
			fmt.Fprintf(progress, "vmtest: vm %s\n", stamped)
		}
		if rest, ok := strings.CutPrefix(line, "VMTEST: "); ok {
			if strings.HasPrefix(rest, "ready ") && toReady == 0 {
				toReady = at
				close(ready)
			}
			if v, ok := strings.CutPrefix(rest, "done payload_s="); ok {
				payload = v
			}
		}
		tail = append(tail, line)
		if len(tail) > tailLines {
			tail = tail[1:]
		}
	}
	return toReady, payload, tail
}
