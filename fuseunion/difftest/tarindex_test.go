package difftest

import (
	"errors"
)

// indexLayerTar indexes an OCI layer tar with the layer package and returns
// the path of the indexed .tar (its .idx beside it).
//
// Placeholder until package layer lands: the nook-tar candidate fails with
// this error instead of being skipped, so nobody mistakes it for coverage.
func indexLayerTar(tarPath, storeDir string) (string, error) {
	return "", errors.New("package layer has no Create yet: cannot index the layer tar")
}
