package fuseunion

import (
	"bytes"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects go-fuse's debug log, written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// count counts the requests op in the log, leaving out those go-fuse
// makes itself at mount time on its ".go-fuse-epoll-hack" node.
func (l *lockedBuffer) count(op string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, ": "+op+" ") && !strings.Contains(line, " n18446744073709551615 ") {
			n++
		}
	}
	return n
}

// On a local upper the kernel asks FLUSH at most once: the ENOSYS answer
// turns it off for the mount, for lower and upper files alike.
func TestCloseSendsNoFlush(t *testing.T) {
	lower := t.TempDir()
	writeTree(t, lower, map[string]string{"a": "lower a", "b": "lower b"})
	l, err := OpenDirLower(lower)
	if err != nil {
		t.Fatal(err)
	}
	tu := mountLowers(t, nil)
	tu.srv.Unmount()
	var logBuf lockedBuffer
	srv, err := Mount(tu.mnt, Config{Lowers: []Lower{l}, Upper: tu.upper, Work: tu.work, Debug: true, Logger: log.New(&logBuf, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Unmount()
	for _, name := range []string{"a", "b", "a", "new"} {
		if name == "new" {
			if err := os.WriteFile(tu.p(name), []byte("upper"), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := readFile(t, filepath.Join(tu.mnt, name)); got != "lower "+name {
			t.Fatalf("%s reads %q", name, got)
		}
	}
	if opens := logBuf.count("OPEN"); opens < 3 {
		t.Fatalf("the debug log shows %d OPEN requests for 3 opens; is it logging?", opens)
	}
	if n := logBuf.count("FLUSH"); n > 1 {
		t.Errorf("%d FLUSH requests for 4 closes, want at most 1:\n%s", n, logBuf.b.String())
	}
}
