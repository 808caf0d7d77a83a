package nook

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nookrun/nook/image"
)

func newLoginCmd() *cobra.Command {
	var f remoteFlags
	var user, password string
	var passwordStdin bool
	c := &cobra.Command{
		Use:   "login [OPTIONS] [REGISTRY]",
		Short: "Log in to a registry",
		Long: `Login checks a user name and password with a registry (docker.io when none
is given) and stores them, as podman login does, in $REGISTRY_AUTH_FILE or
else $XDG_RUNTIME_DIR/containers/auth.json (--authfile chooses another
file). nook never writes Docker's ~/.docker/config.json, but reads it, with
its credential helpers, after its own files.`,
		Example: `  nook login -u me quay.io
  echo "$TOKEN" | nook login -u me --password-stdin localhost:5000`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := "docker.io"
			if len(args) == 1 {
				reg = args[0]
			}
			return login(cmd, &f, reg, user, password, passwordStdin)
		},
	}
	f.add(c, false)
	c.Flags().StringVarP(&user, "username", "u", "", "User name")
	c.Flags().StringVarP(&password, "password", "p", "", "Password (visible to other users of the machine: prefer --password-stdin)")
	c.Flags().BoolVar(&passwordStdin, "password-stdin", false, "Read the password from standard input")
	return c
}

func login(cmd *cobra.Command, f *remoteFlags, registry, user, password string, passwordStdin bool) error {
	reg, err := image.NormalizeRegistry(registry)
	if err != nil {
		return err
	}
	in := cmd.InOrStdin()
	interactive := false
	if fi, ok := in.(*os.File); ok && term.IsTerminal(int(fi.Fd())) {
		interactive = true
	}
	if passwordStdin && password != "" {
		return usageErr(cmd, errors.New("--password and --password-stdin are exclusive"))
	}
	if passwordStdin && user == "" {
		return usageErr(cmd, errors.New("--password-stdin needs --username"))
	}
	br := bufio.NewReader(in)
	if user == "" {
		if !interactive {
			return usageErr(cmd, errors.New("no user name: give --username (standard input is not a terminal)"))
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Username: ")
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read user name: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	switch {
	case passwordStdin:
		data, err := io.ReadAll(io.LimitReader(br, 1<<16))
		if err != nil {
			return fmt.Errorf("read password from standard input: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	case password == "" && interactive:
		fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
		data, err := term.ReadPassword(int(in.(*os.File).Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return fmt.Errorf("read password: %w", err)
		}
		password = string(data)
	case password == "":
		return usageErr(cmd, errors.New("no password: give --password-stdin (standard input is not a terminal)"))
	}
	if user == "" || password == "" {
		return errors.New("login: the user name and password must not be empty")
	}
	opts, err := f.options(nil)
	if err != nil {
		return err
	}
	if err := image.CheckLogin(cmd.Context(), reg, user, password, opts...); err != nil {
		if errors.Is(err, image.ErrUnauthorized) {
			return &userError{fmt.Sprintf("login to %s: the registry refused user %q and this password: check them and try again", reg, user), err}
		}
		if errors.Is(err, image.ErrUnreachable) {
			return &userError{fmt.Sprintf("login to %s: registry unreachable (%s): check the name and the network", reg, rootCause(err)), err}
		}
		return err
	}
	file, err := authFile(f)
	if err != nil {
		return err
	}
	if err := image.SaveCredentials(file, reg, user, password); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded!")
	return nil
}

// authFile is the file login and logout write: --authfile, else
// image.DefaultAuthFile.
func authFile(f *remoteFlags) (string, error) {
	if f.authfile != "" {
		return f.authfile, nil
	}
	return image.DefaultAuthFile()
}

func newLogoutCmd() *cobra.Command {
	var f remoteFlags
	var all bool
	c := &cobra.Command{
		Use:   "logout [OPTIONS] [REGISTRY]",
		Short: "Log out of a registry",
		Long: `Logout removes the credentials nook login stored for a registry (docker.io
when none is given), or with --all for every registry.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := authFile(&f)
			if err != nil {
				return err
			}
			if all {
				if len(args) > 0 {
					return usageErr(cmd, errors.New("--all takes no registry"))
				}
				if err := image.RemoveAllCredentials(file); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "Removed login credentials for all registries")
				return nil
			}
			reg := "docker.io"
			if len(args) == 1 {
				reg = args[0]
			}
			key, err := image.NormalizeRegistry(reg)
			if err != nil {
				return err
			}
			found, err := image.RemoveCredentials(file, key)
			if err != nil {
				return err
			}
			if !found {
				for _, other := range image.AuthFiles() {
					if other != file && image.HasCredentials(other, key) {
						return fmt.Errorf("not logged in to %s with nook: its credentials are in %s, which nook only reads (remove them with the tool that wrote them, e.g. docker logout %s)", key, other, key)
					}
				}
				return fmt.Errorf("not logged in to %s", key)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed login credentials for %s\n", key)
			return nil
		},
	}
	c.Flags().StringVar(&f.authfile, "authfile", "", "Credentials file (default $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json)")
	c.Flags().BoolVarP(&all, "all", "a", false, "Remove the credentials of every registry")
	return c
}
