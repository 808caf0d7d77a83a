package bench

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fsTopdirFL is FS_TOPDIR_FL of linux/fs.h (chattr +T).
const fsTopdirFL = 0x00020000

// spreadSubdirs marks the scratch directory as the top of a hierarchy
// (chattr +T), so that ext4 places each mount's directory, and with it the
// files its workload creates, in a block group of its own. Without it every
// upper lands near the others, and on an ext4 without a journal (as on the
// VMs these benchmarks ran on) allocating an inode skips, one by one, every
// inode freed in the last minute (fs/ext4/ialloc.c, recently_deleted): a
// peer that ran after another peer's upper was removed paid for its
// deletions, 0.7 ms per file created instead of 0.03 ms, so the order of
// the peers decided untar and create-delete. Filesystems without the flag
// ignore it; they place directories as they do.
func spreadSubdirs(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	flags, err := unix.IoctlGetInt(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err == unix.ENOTTY || err == unix.EOPNOTSUPP || err == unix.EINVAL {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get the inode flags of %s: %w", dir, err)
	}
	err = unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, flags|fsTopdirFL)
	if err != nil && err != unix.ENOTTY && err != unix.EOPNOTSUPP && err != unix.EINVAL {
		return fmt.Errorf("mark %s a top directory (chattr +T): %w", dir, err)
	}
	return nil
}
