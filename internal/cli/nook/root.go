package nook

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/cli/buildinfo"
)

// newRootCmd builds the command tree afresh for each run, so that no state
// survives from one Run to the next.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "nook [OPTIONS] COMMAND",
		Short: "Run OCI containers as an ordinary user",
		Long: `nook runs OCI containers for an ordinary user: no root, no daemon, no setuid
binary of its own. The container's root filesystem is a copy-on-write union
served by nook over FUSE straight from indexed layer tars.

nook-overlayfs, installed beside nook, is the same union filesystem with
fuse-overlayfs's command line.`,
		Version: buildinfo.Version(),
		// Errors are printed once, as one line, by Run.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("nook version {{.Version}}\n")
	root.SetUsageFunc(usage)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(c, err)
	})
	addStoreFlags(root)
	root.AddCommand(
		newVersionCmd(),
		newLayerCmd(),
		newRunCmd(), newPsCmd(), newRmCmd(), newStatsCmd(), newPortCmd(), newInspectCmd(),
		newStartCmd(), newStopCmd(), newRestartCmd(), newKillCmd(), newWaitCmd(), newRenameCmd(),
		newExecCmd(), newAttachCmd(), newLogsCmd(), newTopCmd(), newCpCmd(), newContainerCmd(),
		newInfoCmd(),
		newImageCmd(), newImagesCmd("images"), newLoadCmd(), newImportCmd(), newRmiCmd("rmi"), newTagCmd(),
		newPullCmd(), newPushCmd(), newSaveCmd(), newLoginCmd(), newLogoutCmd(),
	)
	// Use lines say [OPTIONS] themselves, as Docker's do.
	var noFlagsSuffix func(*cobra.Command)
	noFlagsSuffix = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		for _, s := range c.Commands() {
			noFlagsSuffix(s)
		}
	}
	noFlagsSuffix(root)
	return root
}

// usageErr adds where to look to a usage error.
func usageErr(c *cobra.Command, err error) error {
	return &hintError{err: err, hint: "see '" + c.CommandPath() + " --help'"}
}

type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() + " (" + e.hint + ")" }
func (e *hintError) Unwrap() error { return e.err }

// oneLine keeps an error message to one line.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
