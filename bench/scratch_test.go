package bench

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// fsTopdirFL is FS_TOPDIR_FL of linux/fs.h (chattr +T).
const fsTopdirFL = 0x00020000

// spreadSubdirs marks the scratch directory as the top of a hierarchy
// (chattr +T), so that ext4 spreads the mounts' directories, and with them
// the files their workloads create, over its block groups instead of
// packing them near each other. With removedDir it keeps one peer's file
// creation from paying for another peer's deletions on an ext4 without a
// journal (0.7 ms per file created instead of 0.03 ms; see removedDir).
// Filesystems without the flag ignore it.
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
