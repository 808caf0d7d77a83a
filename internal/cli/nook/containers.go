package nook

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/runtimedir"
	"github.com/nookrun/nook/run"
)

// openContainers opens the store's containers and sweeps up after
// monitors that died (killed, or a reboot), so that every command sees
// them exited and nothing they left stays behind.
func openContainers(cmd *cobra.Command) (*run.Containers, string, error) {
	store, err := openStore(cmd)
	if err != nil {
		return nil, "", err
	}
	rt, err := runtimedir.Dir(os.Getuid())
	if err != nil {
		rt = "" // no runtime dir, no runtime state to tidy
	}
	cs, err := run.OpenContainers(store.Root(), rt)
	if err != nil {
		return nil, "", err
	}
	if err := cs.Sweep(); err != nil {
		return nil, "", err
	}
	if rt != "" {
		runtimedir.Cleanup(rt)
	}
	return cs, store.Root(), nil
}

// openContainer opens the store's containers and finds the one ref names.
func openContainer(cmd *cobra.Command, ref string) (*run.Containers, *run.Container, error) {
	cs, _, err := openContainers(cmd)
	if err != nil {
		return nil, nil, err
	}
	c, err := cs.Get(ref)
	if err != nil {
		return nil, nil, err
	}
	return cs, c, nil
}
