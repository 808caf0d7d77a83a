package network

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nookrun/nook/internal/atomicfile"
)

// pastaNeeds are the options nook's pasta command line uses. pasta has
// no usable version number (Debian's says "unknown version"), so its help
// text is what tells what it can do.
var pastaNeeds = []string{"--config-net", "--dns-forward", "--ns-ifname", "--tcp-ns", "--udp-ns", "--pid"}

// pastaCurrent is an option of passt 2024_08_21 and later, whose UDP
// forwarding was rewritten (flow tracking): older pastas, such as Debian
// 12's 2023_03_09, forward datagrams from the host's loopback into the
// container but never deliver the answers back.
const pastaCurrent = "--map-host-loopback"

// pastaSupport is what the installed pasta can do.
type pastaSupport struct {
	// Old is a pasta without pastaCurrent: usable, but its forwarding of
	// published UDP ports is broken, so nook forwards those itself.
	Old bool
	// Noticed is false the first time nook sees this pasta binary, so
	// that a note about it is printed once, not on every run.
	Noticed bool
}

// checkPasta returns what the pasta at path supports, or an error naming
// what it lacks that nook needs. The answer is cached in the user's cache
// directory, keyed by the binary's path, size and time, so that a
// container start does not run pasta --help.
func checkPasta(path string) (pastaSupport, error) {
	st, err := os.Stat(path)
	if err != nil {
		return pastaSupport{}, fmt.Errorf("pasta at %s: %w", path, err)
	}
	key := fmt.Sprintf("%s %d %d", path, st.Size(), st.ModTime().UnixNano())
	cache := pastaCacheFile()
	if cache != "" {
		if b, err := os.ReadFile(cache); err == nil {
			if verdict, ok := strings.CutPrefix(string(b), key+" "); ok {
				return pastaSupport{Old: strings.TrimSpace(verdict) == "old", Noticed: true}, nil
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, "--help").CombinedOutput()
	var missing []string
	for _, opt := range pastaNeeds {
		if !bytes.Contains(out, []byte(opt)) {
			missing = append(missing, opt)
		}
	}
	if len(missing) > 0 {
		return pastaSupport{}, fmt.Errorf("the installed pasta (%s) is too old: it lacks %s", path, strings.Join(missing, ", "))
	}
	sup := pastaSupport{Old: !bytes.Contains(out, []byte(pastaCurrent))}
	if cache != "" {
		verdict := "current"
		if sup.Old {
			verdict = "old"
		}
		// Best effort: without the cache the next run asks pasta again.
		if os.MkdirAll(filepath.Dir(cache), 0o700) == nil {
			atomicfile.WriteFile(cache, []byte(key+" "+verdict+"\n"), atomicfile.Options{})
		}
	}
	return sup, nil
}

// pastaCacheFile is in the user's cache directory ($XDG_CACHE_HOME/nook),
// "" when there is none.
func pastaCacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "nook", "pasta-support")
}
