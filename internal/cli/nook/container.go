package nook

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
)

// newContainerCmd is Docker's "container" group: the container commands
// again under it, and prune.
func newContainerCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	ls := newPsCmd()
	ls.Use, ls.Aliases = "ls [OPTIONS]", []string{"list", "ps"}
	c.AddCommand(
		newContainerPruneCmd(), ls,
		newRunCmd(), newRmCmd(), newStartCmd(), newStopCmd(), newRestartCmd(), newKillCmd(),
		newWaitCmd(), newRenameCmd(), newExecCmd(), newAttachCmd(), newLogsCmd(),
		newInspectCmd(), newPortCmd(), newStatsCmd(), newTopCmd(), newCpCmd(),
	)
	return c
}

func newContainerPruneCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			list, err := cs.List()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintln(out, "Deleted Containers:")
			for _, c := range list {
				if c.State != run.StateExited && c.State != run.StateCreated {
					continue
				}
				// One that runs (or started meanwhile) keeps its lock:
				// Remove without force leaves it.
				if err := cs.Remove(c, false); err != nil {
					continue
				}
				fmt.Fprintln(out, c.ID)
			}
			return nil
		},
	}
	// Nothing asks: nook has no prompt; -f is accepted for scripts
	// written for Docker.
	c.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return c
}
