package fuseunion

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// union is the state shared by every node of one mount.
type union struct {
	lowers []Lower
	upper  int // O_PATH fd of the upper dir, -1 for a read-only union
	work   int // O_PATH fd of the work dir
	metas  *metaStore
	// volatile skips flushes to disk (Config.Volatile).
	volatile bool

	// gen invalidates every node's cached state at once, after an
	// operation that changes what many paths resolve to (a merged
	// directory's rename, a hard-link group's copy-up).
	gen atomic.Uint64

	inoMu     sync.Mutex
	nextIno   uint64
	lowerInos map[lowerKey]uint64
	upperInos map[uint64]uint64 // upper host ino → union ino

	// renameMu serialises the operations that move or copy whole trees.
	renameMu sync.Mutex
	tmpSeq   atomic.Uint64
	umask    uint32
	// ids translates upper files' host owners and applies Config.Squash.
	ids idTranslation
	// killFlags passes WRITE_KILL_SUIDGID to the writes (killpriv.go).
	killFlags killFlags
	// closeErrors: the upper's filesystem can fail a close(2) (network
	// filesystems), so FLUSH must reach it.
	closeErrors bool
	// spareReader has the FUSE server start another reader before a slow
	// operation (a copy-up), since most requests are answered inline by
	// one reader (third_party/go-fuse/PATCH.md). Set once, before serving.
	spareReader func()
}

type lowerKey struct {
	layer int
	ident uint64
}

const rootIno = 1

func newUnion(cfg Config) (*union, error) {
	u := &union{
		lowers:    cfg.Lowers,
		upper:     -1,
		work:      -1,
		nextIno:   rootIno + 1,
		lowerInos: map[lowerKey]uint64{},
		upperInos: map[uint64]uint64{},
		ids:       newIDTranslation(cfg),
		volatile:  cfg.Volatile,
	}
	if len(cfg.Lowers) == 0 && cfg.Upper == "" {
		return nil, fmt.Errorf("a union needs at least one lower layer or an upper directory")
	}
	if cfg.Upper == "" {
		return u, nil
	}
	if cfg.Work == "" {
		u.close()
		return nil, fmt.Errorf("upper directory %s needs a work directory on the same filesystem", cfg.Upper)
	}
	var err error
	if u.upper, err = unix.Open(cfg.Upper, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, fmt.Errorf("open upper directory %s: %w", cfg.Upper, err)
	}
	if u.work, err = unix.Open(cfg.Work, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		u.close()
		return nil, fmt.Errorf("open work directory %s: %w", cfg.Work, err)
	}
	var su, sw unix.Stat_t
	if err := unix.Fstat(u.upper, &su); err != nil {
		u.close()
		return nil, fmt.Errorf("stat upper directory %s: %w", cfg.Upper, err)
	}
	if err := unix.Fstat(u.work, &sw); err != nil {
		u.close()
		return nil, fmt.Errorf("stat work directory %s: %w", cfg.Work, err)
	}
	if su.Dev != sw.Dev {
		u.close()
		return nil, fmt.Errorf("work directory %s is not on the filesystem of upper directory %s: copy-up renames from one to the other", cfg.Work, cfg.Upper)
	}
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(u.upper, &sfs); err == nil {
		u.closeErrors = isNetworkFS(sfs.Type)
	}
	if u.metas, err = openMetaStore(filepath.Join(cfg.Work, "nook-meta.journal"), cfg.Volatile); err != nil {
		u.close()
		return nil, err
	}
	// The kernel applies the workload's umask before the server sees a
	// mode; the server's own umask must not apply a second time.
	u.umask = uint32(unix.Umask(0))
	unix.Umask(int(u.umask))
	return u, nil
}

// isNetworkFS reports filesystems whose close(2) can report write errors.
func isNetworkFS(magic int64) bool {
	switch uint32(magic) {
	case unix.NFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CIFS_SUPER_MAGIC,
		unix.CEPH_SUPER_MAGIC, unix.V9FS_MAGIC, unix.FUSE_SUPER_MAGIC, unix.AFS_SUPER_MAGIC,
		0x0bd00bd0, // Lustre
		0x47504653: // GPFS
		return true
	}
	return false
}

func (u *union) close() error {
	var err error
	if u.metas != nil {
		err = u.metas.close()
	}
	if u.upper >= 0 {
		unix.Close(u.upper)
	}
	if u.work >= 0 {
		unix.Close(u.work)
	}
	for _, l := range u.lowers {
		l.Close()
	}
	return err
}

func (u *union) readonly() bool { return u.upper < 0 }

// lowerIno is the union inode number of a lower entry. It is assigned at
// first sight and kept for the life of the mount, also for the entry's
// copy in the upper once it is copied up.
func (u *union) lowerIno(layer int, ident uint64) uint64 {
	u.inoMu.Lock()
	defer u.inoMu.Unlock()
	return inoFor(u, u.lowerInos, lowerKey{layer, ident})
}

// upperIno is the union inode number of an upper entry by its host inode.
func (u *union) upperIno(hostIno uint64) uint64 {
	u.inoMu.Lock()
	defer u.inoMu.Unlock()
	return inoFor(u, u.upperInos, hostIno)
}

// inoFor returns k's number in m, assigning the next free one at first
// sight. inoMu is held.
func inoFor[K comparable](u *union, m map[K]uint64, k K) uint64 {
	if ino, ok := m[k]; ok {
		return ino
	}
	ino := u.nextIno
	u.nextIno++
	m[k] = ino
	return ino
}

// bindUpperIno makes a new upper entry keep the union inode number ino (a
// copy-up keeps the lower entry's number; a create gets a fresh one even
// if the host reuses an inode number).
func (u *union) bindUpperIno(hostIno, ino uint64) {
	u.inoMu.Lock()
	u.upperInos[hostIno] = ino
	u.inoMu.Unlock()
}

func (u *union) freshIno() uint64 {
	u.inoMu.Lock()
	defer u.inoMu.Unlock()
	ino := u.nextIno
	u.nextIno++
	return ino
}

// tmpName returns a fresh name for a file being built in the work dir.
func (u *union) tmpName() string {
	return fmt.Sprintf("nook-tmp-%d-%d", os.Getpid(), u.tmpSeq.Add(1))
}
