package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// env is what every benchmark shares: the Debian rootfs as a tar, as a
// directory and as an indexed layer; the generated data layer; the tar that
// workloads extract; the binaries under test.
type env struct {
	cache   string // $XDG_CACHE_HOME/nook-bench/v1, kept across runs
	scratch string // cache/scratch: this run's mounts, binaries and indexes
	lock    *os.File

	rootfsTar string // mmdebstrap's output
	rootfsDir string // the same tar unpacked, subordinate owners kept
	dataDir   string // the big lower files as a directory layer
	dataTar   string // the same directory as a plain tar
	untarSrc  string // the ~100 MB tar the untar workload extracts

	mklayer    string // helper that indexes a layer with layer.Create
	mklayerErr error  // why mklayer is missing
	nookTars   []string
	nookTarErr error // why nookTars is missing
	nookBin    string
	nookBinErr error // why nookBin is missing
}

// sharedEnv builds the environment once per process: every benchmark (and
// every -count repetition) uses the same one. It is the package's only
// package-level state, and it never changes once built.
var sharedEnv = sync.OnceValues(loadEnv)

func loadEnv() (*env, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("find cache directory: %w", err)
	}
	e := &env{cache: filepath.Join(base, "nook-bench", "v1")}
	if err := os.MkdirAll(e.cache, 0o755); err != nil {
		return nil, fmt.Errorf("create cache %s: %w", e.cache, err)
	}
	// Held until the process exits: a second run waits here, so two runs
	// neither share a scratch directory nor skew each other's timings.
	e.lock, err = os.OpenFile(filepath.Join(e.cache, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open cache lock: %w", err)
	}
	if err := unix.Flock(int(e.lock.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock cache %s: %w", e.cache, err)
	}

	e.scratch = filepath.Join(e.cache, "scratch")
	if err := os.RemoveAll(e.scratch); err != nil {
		return nil, fmt.Errorf("clear scratch %s: %w", e.scratch, err)
	}
	if err := os.MkdirAll(filepath.Join(e.scratch, "bin"), 0o755); err != nil {
		return nil, fmt.Errorf("create scratch: %w", err)
	}
	if err := spreadSubdirs(e.scratch); err != nil {
		return nil, err
	}
	if err := os.Mkdir(removedDir(e), 0o755); err != nil {
		return nil, fmt.Errorf("create scratch: %w", err)
	}

	steps := []struct {
		what string
		do   func() error
	}{
		{"build the Debian rootfs tar", e.ensureRootfsTar},
		{"unpack the Debian rootfs", e.ensureRootfsDir},
		{"generate the data layer", e.ensureData},
		{"make the tar to extract", e.ensureUntarSource},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
	}
	e.buildTools()
	printConfig(e)
	return e, nil
}

// done reports whether path exists; the cache only ever holds finished
// files, because every step writes a temporary name and renames it.
func done(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return false, err
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "nook-bench setup: "+format+"\n", args...)
}
