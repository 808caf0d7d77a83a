package nook

import (
	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

func newRmCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, args, func(cs *run.Containers, c *run.Container) error {
				return interruptible(cmd, func() error { return cs.Remove(c, force) })
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	c.ValidArgsFunction = completeContainers
	return c
}

// completeContainers completes container names.
func completeContainers(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	cs, _, err := openContainers(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	list, _ := cs.List()
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
