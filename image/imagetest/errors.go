package imagetest

import "errors"

// ErrNoBusybox means the host has no statically linked /bin/busybox to
// build the test images from (install Debian's busybox-static).
var ErrNoBusybox = errors.New("no static busybox on the host (install busybox-static)")
