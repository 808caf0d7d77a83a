package difftest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nookrun/nook/layer"
)

// indexLayerTar indexes the OCI layer tar at tarPath with the layer package
// into storeDir and returns the path of the indexed .tar (its .idx beside it).
func indexLayerTar(tarPath, storeDir string) (string, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return "", fmt.Errorf("open layer tar: %w", err)
	}
	defer f.Close()
	info, err := layer.Create(context.Background(), f, storeDir)
	if err != nil {
		return "", fmt.Errorf("index layer tar %s: %w", tarPath, err)
	}
	return filepath.Join(storeDir, strings.TrimPrefix(info.DiffID, "sha256:")+".tar"), nil
}
