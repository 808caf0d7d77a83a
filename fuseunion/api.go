package fuseunion

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Config describes one union mount.
type Config struct {
	// Lowers are the read-only layers, topmost first.
	Lowers []Lower
	// Upper is the writable directory; empty for a read-only union.
	Upper string
	// Work is a directory on the same filesystem as Upper for temporary
	// files (copy-up) and the ownership journal. Required with Upper.
	Work string
	// FsName is shown as the source in /proc/mounts.
	FsName string
	// Debug logs every FUSE request.
	Debug bool
	// Logger receives go-fuse's messages (Debug's, and the read error
	// that ends a connection the kernel aborted); nil is log's standard
	// logger.
	Logger *log.Logger
	// Owner, when set, is who the server's own user is on the other side
	// of the FUSE connection: upper files the host shows as owned by the
	// server's uid and gid are presented as Owner's. A server in the host
	// namespaces serving a container's user namespace sets it to the ids
	// its user maps to there (0 for a user mapped to root); nil keeps
	// host ids as they are (a server inside that user namespace).
	Owner *Owner
	// Squash presents every file as owned by Owner (or by the server's own
	// ids): for a user namespace that maps a single id, where any other
	// owner would show as nobody and lock root out of the file.
	Squash bool
	// IDMap, when set, translates between the ids the layers and the
	// ownership journal hold (and Owner names) and the ids of the FUSE
	// connection's user namespace, for a workload in a user namespace
	// nested below the connection's (nook's keep-id). Ids outside the map
	// show as nobody (65534). Nil means they are the same.
	IDMap *IDMap
	// Volatile skips every flush to disk: the ownership journal's and the
	// workload's fsync, fdatasync and syncfs of upper files, as kernel
	// overlayfs's "volatile" option does. For an upper that is thrown
	// away when the union ends (nook run --rm): a crash can then leave it
	// inconsistent, which does not matter for a directory nobody keeps.
	Volatile bool
}

// Owner is a uid and gid pair.
type Owner struct{ UID, GID uint32 }

// IDMap is a uid and a gid map.
type IDMap struct{ UIDs, GIDs []IDRange }

// IDRange maps Size ids from Container on to Conn on.
type IDRange struct{ Container, Conn, Size uint32 }

// Server is a live union mount.
type Server struct {
	srv       *fuse.Server
	u         *union
	closeOnce sync.Once
	closeErr  error
}

// cacheTimeout is how long the kernel may keep entries and attributes.
// Everything the union shows changes only through the union itself, and
// the kernel invalidates what such changes touch.
const cacheTimeout = time.Hour

// Mount mounts the union described by cfg on mountpoint and serves it in the
// background. mountpoint may be a directory or "/dev/fd/N", an already
// mounted /dev/fuse descriptor (which the caller unmounts; the server then
// ends). Mount takes the lowers: the Server closes them, and so does a
// failed Mount.
func Mount(mountpoint string, cfg Config) (*Server, error) {
	u, err := newUnion(cfg)
	if err != nil {
		return nil, err
	}
	root := u.newNode(nstate{})
	s, errno := u.rootState()
	if errno != 0 {
		u.close()
		return nil, fmt.Errorf("read the union's root: %w", errno)
	}
	root.st = s
	timeout := cacheTimeout
	name := cfg.FsName
	if name == "" {
		name = "nook"
	}
	opts := &fs.Options{
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &timeout,
		NullPermissions: true,
		RootStableAttr:  &fs.StableAttr{Ino: rootIno},
		MountOptions: fuse.MountOptions{
			FsName:               name,
			Name:                 "nook",
			AllowOther:           os.Geteuid() == 0,
			Options:              []string{"default_permissions"},
			DirectMount:          true,
			DirectMountFlags:     syscall.MS_NODEV,
			MaxWrite:             1 << 20,
			MaxReadAhead:         1 << 20,
			EnableSymlinkCaching: true,
			ExtraCapabilities:    fuse.CAP_WRITEBACK_CACHE | fuse.CAP_ATOMIC_O_TRUNC | fuse.CAP_HANDLE_KILLPRIV_V2,
			Debug:                cfg.Debug,
			Logger:               cfg.Logger,
			PanicHandler: func(p any) fuse.Status {
				log.Printf("fuseunion: recovered from a panic: %v", p)
				return fuse.EIO
			},
		},
	}
	if strings.HasPrefix(mountpoint, "/dev/fd/") {
		// Already mounted by whoever passed the fd: go-fuse must not
		// try mount(2) on the fd's path first.
		opts.MountOptions.DirectMount = false
	}
	if cfg.Upper == "" {
		opts.MountOptions.ExtraCapabilities = 0
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	raw := fewerRoundTrips{killPrivWrites{fs.NewNodeFS(root, opts), &u.killFlags}, u.closeErrors}
	srv, err := fuse.NewServer(noOpendir{raw}, mountpoint, &opts.MountOptions)
	if err != nil {
		u.close()
		return nil, fmt.Errorf("mount union on %s: %w", mountpoint, err)
	}
	u.spareReader = srv.SpareReader
	go srv.Serve()
	if err := srv.WaitMount(); err != nil {
		srv.Unmount()
		u.close()
		return nil, fmt.Errorf("mount union on %s: %w", mountpoint, err)
	}
	return &Server{srv: srv, u: u}, nil
}

// Wait blocks until the union is unmounted, then releases its files.
func (s *Server) Wait() error {
	s.srv.Wait()
	return s.release()
}

// Unmount detaches the union, stops serving it and releases its files.
func (s *Server) Unmount() error {
	if err := s.srv.Unmount(); err != nil {
		return fmt.Errorf("unmount union: %w", err)
	}
	s.srv.Wait()
	return s.release()
}

func (s *Server) release() error {
	s.closeOnce.Do(func() { s.closeErr = s.u.close() })
	return s.closeErr
}
