package nook

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nookrun/nook/internal/runtimedir"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
	"github.com/nookrun/nook/run/ctrcopy"
)

func newCpCmd() *cobra.Command {
	var archive, follow bool
	c := &cobra.Command{
		Use:   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  nook cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: `Copy files/folders between a container and the local filesystem,
by Docker's rules. "-" as the source reads a tar from stdin; as the
destination it writes one to stdout. Files copied in belong to the
container's root unless -a keeps the owners of the source.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, _, err := openContainers(cmd)
			if err != nil {
				return err
			}
			srcCtr, srcPath := splitCopyArg(cs, args[0])
			dstCtr, dstPath := splitCopyArg(cs, args[1])
			switch {
			case srcCtr != nil && dstCtr != nil:
				return usageErr(cmd, errors.New("copying between containers is not supported: copy to the host first"))
			case srcCtr == nil && dstCtr == nil:
				return usageErr(cmd, errors.New("one of the paths must name a container: CONTAINER:PATH"))
			case srcCtr != nil:
				return copyOut(cmd, cs, srcCtr, srcPath, dstPath, follow)
			}
			return copyIn(cmd, cs, dstCtr, srcPath, dstPath, follow, archive)
		},
	}
	c.Flags().BoolVarP(&archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	c.Flags().BoolVarP(&follow, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	return c
}

// splitCopyArg reads CONTAINER:PATH; a local path with a colon is written
// with a slash before it (./a:b), as in Docker.
func splitCopyArg(cs *run.Containers, arg string) (*run.Container, string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return nil, arg
	}
	name, p, ok := strings.Cut(arg, ":")
	if !ok || name == "" {
		return nil, arg
	}
	c, err := cs.Get(name)
	if err != nil {
		return nil, arg
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return c, p
}

// copyOut copies CONTAINER:src to the host path dst ("-": a tar to stdout).
func copyOut(cmd *cobra.Command, cs *run.Containers, c *run.Container, src, dst string, follow bool) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("copy from %s: %w", c.Name, err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	req := run.ExecRequest{Copy: &run.CopyRequest{Out: true, Path: src, Pack: ctrcopy.PackOptions{FollowLink: follow, Plain: dst == "-"}}}
	done := make(chan error, 1)
	go func() {
		code, err := copyRun(cmd, cs, c, req, devnull, pw)
		pw.Close()
		if err == nil && code != 0 {
			err = &exitError{code: 1}
		}
		done <- err
	}()
	var uerr error
	if dst == "-" {
		_, uerr = io.Copy(os.Stdout, pr)
	} else {
		uerr = ctrcopy.Unpack(pr, dst, ctrcopy.UnpackOptions{})
		io.Copy(io.Discard, pr)
	}
	pr.Close()
	if err := <-done; err != nil {
		return err
	}
	return uerr
}

// copyIn copies the host path src ("-": a tar from stdin) to
// CONTAINER:dst.
func copyIn(cmd *cobra.Command, cs *run.Containers, c *run.Container, src, dst string, follow, archive bool) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("copy to %s: %w", c.Name, err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	un := ctrcopy.UnpackOptions{KeepOwners: archive}
	if !archive {
		un.Chown = &ctrcopy.IDs{}
	}
	req := run.ExecRequest{Copy: &run.CopyRequest{Path: dst, Unpack: un}}
	packed := make(chan error, 1)
	go func() {
		var err error
		if src == "-" {
			_, err = io.Copy(pw, os.Stdin)
		} else {
			_, err = ctrcopy.Pack(pw, src, ctrcopy.PackOptions{FollowLink: follow})
		}
		pw.Close()
		packed <- err
	}()
	code, err := copyRun(cmd, cs, c, req, pr, devnull)
	pr.Close()
	perr := <-packed
	if err != nil {
		return err
	}
	if perr != nil {
		return perr
	}
	if code != 0 {
		return &exitError{code: 1}
	}
	return nil
}

// copyRun runs cp's container side: in a running container through
// exec; in a stopped one as the first process of a transient start of it
// (its root and volumes, no network, no cgroup, its lock held so that
// nobody starts it meanwhile).
func copyRun(cmd *cobra.Command, cs *run.Containers, c *run.Container, req run.ExecRequest, stdin, stdout *os.File) (int, error) {
	for {
		code, err := cs.Exec(c, req, stdin, stdout, os.Stderr)
		if !errors.Is(err, run.ErrNotRunning) {
			return code, err
		}
		if err := cs.Lock(c); err != nil {
			if errors.Is(err, run.ErrRunning) {
				continue // it started meanwhile
			}
			return ExitError, err
		}
		defer c.Unlock()
		return copyStopped(cmd, c, req.Copy, stdin, stdout)
	}
}

func copyStopped(cmd *cobra.Command, c *run.Container, cp *run.CopyRequest, stdin, stdout *os.File) (int, error) {
	set, err := c.Settings()
	if err != nil {
		return ExitError, err
	}
	state, err := runtimedir.Sub(os.Getuid(), c.ID)
	if err != nil {
		return ExitError, fmt.Errorf("make the container's runtime directory: %w", err)
	}
	defer func() {
		os.RemoveAll(state)
		runtimedir.Cleanup(filepath.Dir(state))
	}()
	p := &prepared{cn: containerNetwork{setup: network.Setup{Mode: network.Mode{Kind: network.None}}}, cgroups: &cgroupSetup{mode: cgroupsDisabled}}
	cfg, err := configFor(cmd, c, set, p, state)
	if err != nil {
		return ExitError, err
	}
	cfg.StateDir, cfg.Copy = state, cp
	cfg.Stdin, cfg.Stdout, cfg.Stderr = stdin, stdout, os.Stderr
	exit, err := run.Run(cmd.Context(), cfg)
	return exit.Code, err
}
