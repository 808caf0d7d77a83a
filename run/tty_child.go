package run

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// takeTerminal makes a pseudo-terminal in the container's own devpts
// instance the controlling terminal and stdio of this process, and sends
// its master to the monitor, which relays the user's terminal to it.
func takeTerminal(ch channel, rows, cols uint16) error {
	master, err := unix.Open("/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's /dev/pts/ptmx: %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("unlock the pty: %w", err)
	}
	slave, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY)
	if errno != 0 {
		return fmt.Errorf("open the pty's terminal: %w", errno)
	}
	defer unix.Close(int(slave))
	if rows > 0 && cols > 0 {
		if err := unix.IoctlSetWinsize(int(slave), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
			return fmt.Errorf("set the pty's size: %w", err)
		}
	}
	// The monitor started us with setsid, so we lead a session without a
	// controlling terminal and may take this one.
	if err := unix.IoctlSetInt(int(slave), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("take the pty as controlling terminal: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup2(int(slave), fd); err != nil {
			return fmt.Errorf("make the pty stdio: %w", err)
		}
	}
	return ch.send(message{Type: msgPTY}, master)
}
