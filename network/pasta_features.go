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
// text is what tells whether it is new enough.
var pastaNeeds = []string{"--config-net", "--dns-forward", "--ns-ifname", "--tcp-ns", "--udp-ns", "--no-map-gw", "--pid"}

// checkPasta returns an error naming what the pasta at path lacks. The
// answer is kept in a cache file keyed by the binary's size and time, so
// that a container start does not run pasta --help.
func checkPasta(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("pasta at %s: %w", path, err)
	}
	key := fmt.Sprintf("%s %d %d\n", path, st.Size(), st.ModTime().UnixNano())
	cache := pastaCacheFile()
	if cache != "" {
		if b, err := os.ReadFile(cache); err == nil && string(b) == key {
			return nil
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
		return fmt.Errorf("the installed pasta (%s) is too old: it lacks %s", path, strings.Join(missing, ", "))
	}
	if cache != "" {
		atomicfile.WriteFile(cache, []byte(key), atomicfile.Options{})
	}
	return nil
}

// pastaCacheFile is in the user's cache directory ($XDG_CACHE_HOME/nook),
// "" when there is none.
func pastaCacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "nook", "pasta-ok")
}
