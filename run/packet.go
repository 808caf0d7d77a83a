package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxPacket bounds one message; a spec with many mounts and a long
// environment fits easily.
const maxPacket = 1 << 20

// maxFDs bounds the descriptors one packet carries.
const maxFDs = 8

// sendPacket writes v as one JSON packet on the SOCK_SEQPACKET socket f,
// with fds attached by SCM_RIGHTS.
func sendPacket(f *os.File, v any, fds []int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		err = unix.Sendmsg(int(f.Fd()), b, oob, nil, 0)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// recvPacket reads one packet into v and returns the descriptors that
// came with it (close-on-exec). It returns io.EOF when the other end
// closed.
func recvPacket(f *os.File, v any) ([]int, error) {
	buf := make([]byte, maxPacket)
	oob := make([]byte, unix.CmsgSpace(4*maxFDs))
	for {
		n, oobn, flags, _, err := unix.Recvmsg(int(f.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("receive message: %w", err)
		}
		if n == 0 && oobn == 0 {
			return nil, io.EOF
		}
		var fds []int
		if oobn > 0 {
			fds = parseRights(oob[:oobn])
		}
		if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
			closeFDs(fds)
			return nil, fmt.Errorf("receive message: truncated")
		}
		if err := json.Unmarshal(buf[:n], v); err != nil {
			closeFDs(fds)
			return nil, fmt.Errorf("decode message: %w", err)
		}
		return fds, nil
	}
}

func parseRights(oob []byte) []int {
	cmsgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var out []int
	for _, cm := range cmsgs {
		fds, err := unix.ParseUnixRights(&cm)
		if err != nil {
			continue
		}
		out = append(out, fds...)
	}
	return out
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
