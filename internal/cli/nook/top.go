package nook

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/run"
	"github.com/nookrun/nook/run/ctrtop"
)

func newTopCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Display the running processes of a container",
		Long: `Display the running processes of a container, with host PIDs as Docker
shows them. ps OPTIONS, when given, go to the host's ps, whose rows for the
container's processes are kept (they must include a PID column).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ctr, err := openContainer(cmd, args[0])
			if err != nil {
				return err
			}
			if ctr.State != run.StateRunning || ctr.ChildPID == 0 {
				return fmt.Errorf("container %s is not running", ctr.Name)
			}
			header, rows, err := ctrtop.Table(ctr.ChildPID, args[1:])
			if err != nil {
				return err
			}
			return ctrtop.Print(os.Stdout, header, rows)
		},
	}
	c.Flags().SetInterspersed(false)
	c.ValidArgsFunction = completeContainers
	return c
}
