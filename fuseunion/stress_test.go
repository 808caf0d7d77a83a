package fuseunion

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestConcurrentOperationsSurvive runs random namespace and data operations
// from many goroutines at once over a merged tree. Errors are expected (the
// goroutines race each other); a hang, a crash of the server or a tree the
// union can no longer walk is not.
func TestConcurrentOperationsSurvive(t *testing.T) {
	lo := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			files[fmt.Sprintf("d%d/s%d/f", i, j)] = "lower"
		}
	}
	writeTree(t, lo, files)
	tu := mountDirs(t, lo)
	names := []string{"d0", "d1", "d2", "d3", "d0/s1", "d1/s2", "d2/s3", "d3/s4", "d0/s1/f", "d1/s2/f", "x", "y", "d4/z"}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed))
			pick := func() string { return tu.p(names[r.Intn(len(names))]) }
			for i := 0; i < 400; i++ {
				switch r.Intn(9) {
				case 0:
					os.WriteFile(pick(), []byte("w"), 0o644)
				case 1:
					os.Remove(pick())
				case 2:
					os.Mkdir(pick(), 0o755)
				case 3:
					unix.Rename(pick(), pick())
				case 4:
					os.ReadDir(pick())
				case 5:
					os.Link(pick(), pick())
				case 6:
					os.RemoveAll(pick())
				case 7:
					unix.Renameat2(unix.AT_FDCWD, pick(), unix.AT_FDCWD, pick(), unix.RENAME_EXCHANGE)
				case 8:
					os.Chmod(pick(), 0o700)
				}
			}
		}(int64(w))
	}
	wg.Wait()
	err := filepath.Walk(tu.mnt, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if info.Mode().IsRegular() {
			if _, err := os.ReadFile(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("the union is not walkable after concurrent operations: %v", err)
	}
}
