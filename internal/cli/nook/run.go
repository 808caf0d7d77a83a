package nook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/nookrun/nook/image"
	"github.com/nookrun/nook/internal/fsinfo"
	"github.com/nookrun/nook/network"
	"github.com/nookrun/nook/run"
	"github.com/nookrun/nook/run/ctrlog"
	"github.com/nookrun/nook/userns"
)

func newRunCmd() *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Long: `Create and run a new container from an image.

The container runs in new user, mount, PID, UTS, IPC and network namespaces,
on a copy-on-write union of the image's layers that nook serves over FUSE.
Without --rm it stays, stopped, for 'nook ps -a' and 'nook rm'.`,
		Example: `  nook run --rm busybox echo hello
  nook run -it --rm -v "$PWD:/work" -w /work debian bash
  nook run --rm --userns keep-id -v "$HOME:$HOME" busybox id`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainer(cmd, f, args[0], args[1:])
		},
	}
	// Everything after the image belongs to the container's command.
	c.Flags().SetInterspersed(false)
	fl := c.Flags()
	fl.BoolVar(&f.rm, "rm", false, "Automatically remove the container when it exits")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "Keep STDIN open")
	fl.BoolVarP(&f.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "Set environment variables (KEY=VALUE, or KEY to pass the host's value)")
	fl.StringArrayVar(&f.envFiles, "env-file", nil, "Read in a file of environment variables")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "Working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fl.StringArrayVarP(&f.volumes, "volume", "v", nil, "Bind mount a volume (HOST-PATH:CONTAINER-PATH[:ro])")
	fl.StringArrayVar(&f.mounts, "mount", nil, "Attach a filesystem mount to the container (type=bind|tmpfs,...)")
	fl.StringArrayVar(&f.tmpfs, "tmpfs", nil, "Mount a tmpfs directory (PATH[:OPTIONS])")
	fl.BoolVar(&f.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	fl.StringVarP(&f.hostname, "hostname", "h", "", "Container host name")
	fl.StringVar(&f.name, "name", "", "Assign a name to the container")
	fl.BoolVar(&f.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	fl.StringVar(&f.userns, "userns", "auto", "User namespace to use (auto, keep-id, single)")
	fl.StringVar(&f.upperDir, "upper-dir", "", "Directory for the container's writable layer (default: in the store, or node-local storage when the store is on a network filesystem)")
	fl.BoolVar(&f.fuseDebug, "fuse-debug", false, "Log every FUSE request of the root filesystem")
	fl.MarkHidden("fuse-debug")
	fl.BoolVarP(&f.detach, "detach", "d", false, "Run container in background and print container ID")
	fl.StringVar(&f.restart, "restart", "no", "Restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "Signal to stop the container (default: the image's, else SIGTERM)")
	fl.IntVar(&f.stopTimeout, "stop-timeout", 10, "Timeout (in seconds) to stop a container before it is killed")
	fl.StringArrayVar(&f.logOpts, "log-opt", nil, "Log driver options for a detached container (max-size=10m, max-file=2)")
	c.RegisterFlagCompletionFunc("restart", cobra.FixedCompletions([]string{"no", "on-failure", "always", "unless-stopped"}, cobra.ShellCompDirectiveNoFileComp))
	addPullFlag(c, f)
	addNetworkFlags(c, &f.net)
	addResourceFlags(c, &f.res)
	// -h is --hostname, as in Docker: help is --help only.
	fl.Bool("help", false, "Print usage")
	c.RegisterFlagCompletionFunc("userns", cobra.FixedCompletions([]string{"auto", "keep-id", "single"}, cobra.ShellCompDirectiveNoFileComp))
	c.ValidArgsFunction = completeImages
	return c
}

func runContainer(cmd *cobra.Command, f *runFlags, ref string, args []string) error {
	netMode, err := f.net.parse()
	if err != nil {
		return usageErr(cmd, err)
	}
	if f.workdir != "" && !strings.HasPrefix(f.workdir, "/") {
		return fmt.Errorf("the working directory %q is invalid: it needs to be an absolute path", f.workdir)
	}
	mode, err := userns.ParseMode(f.userns)
	if err != nil {
		return usageErr(cmd, err)
	}
	policy, err := run.ParseRestartPolicy(f.restart)
	if err != nil {
		return usageErr(cmd, err)
	}
	if f.rm && policy.Name != "no" {
		return usageErr(cmd, fmt.Errorf("--restart %s and --rm conflict: a container removed when it exits cannot be restarted; drop one", policy))
	}
	logMax, err := ctrlog.ParseLogOpts(f.logOpts)
	if err != nil {
		return usageErr(cmd, err)
	}
	mounts, err := collectMounts(f)
	if err != nil {
		return err
	}
	cgroups, err := resolveCgroups(cmd, &f.res)
	if err != nil {
		return err
	}
	store, err := openStore(cmd)
	if err != nil {
		return err
	}
	// Held from the lookup until the container has its layers open (or,
	// detached, its record names the image), so that a concurrent rmi
	// cannot delete them in between.
	release, err := store.Hold()
	if err != nil {
		return err
	}
	var releaseOnce sync.Once
	releaseStore := func() { releaseOnce.Do(release) }
	defer releaseStore()
	if ref, err = ensureImage(cmd, store, ref, f.pull); err != nil {
		return err
	}
	img, err := store.Lookup(ref)
	if err != nil {
		return imageNotFound(ref, err)
	}
	env, err := environment(img.Config.Env, f.envFiles, f.env)
	if err != nil {
		return err
	}
	argv := command(img, cmd.Flags().Changed("entrypoint"), f.entrypoint, args)
	stopSignal := img.Config.StopSignal
	if f.stopSignal != "" {
		stopSignal = f.stopSignal
	}
	stop, err := parseSignal(stopSignal)
	if err != nil {
		return fmt.Errorf("stop signal: %w", err)
	}
	cn, err := f.net.networkFor(netMode, img)
	if err != nil {
		return err
	}
	if cn.note != "" && (!cn.minor || term.IsTerminal(int(os.Stderr.Fd()))) {
		fmt.Fprintf(cmd.ErrOrStderr(), "nook: note: %s\n", cn.note)
	}
	cs, _, err := openContainers(cmd)
	if err != nil {
		return err
	}
	var plan userns.Plan
	if netMode.Kind == network.Container {
		if plan, err = cn.join(cs, netMode.Container, mode, cmd.Flags().Changed("userns")); err != nil {
			return err
		}
	} else {
		if plan, err = userPlan(mode); err != nil {
			return err
		}
		if plan.Notice != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "nook: note: %s\n", plan.Notice)
		}
	}
	upperBase, err := upperBase(store.Root(), f.upperDir)
	if err != nil {
		return err
	}
	set := &run.Settings{
		Hostname:    f.hostname,
		Interactive: f.interactive,
		StopSignal:  int(stop),
		StopTimeout: f.stopTimeout,
		Mounts:      mounts,
		ReadOnly:    f.readOnly,
		Network:     f.net.network,
		DNS:         cn.dns,
		ExtraHosts:  cn.hosts,
		Resources:   cgroups.resources(),
		Restart:     policy,
		LogMaxSize:  logMax.MaxSize,
		LogMaxFiles: logMax.MaxFiles,
		Process: run.Process{
			Args: argv,
			Env:  env,
			Cwd:  f.workdir,
			User: f.user,
			Tty:  f.tty,
			Init: f.init,
		},
	}
	if set.Process.Cwd == "" {
		set.Process.Cwd = img.Config.WorkingDir
	}
	if !cmd.Flags().Changed("user") {
		set.Process.User = img.Config.User
	}
	for _, l := range img.Layers {
		set.Layers = append(set.Layers, l.Tar)
	}
	if plan.Mode == userns.KeepID {
		set.HostUser = run.HostUser{Name: userns.LoginName(os.Getuid()), Home: os.Getenv("HOME")}
	}
	ctr, err := cs.Create(run.Container{
		Name:       f.name,
		Image:      displayName(img, ref),
		ImageID:    img.ID,
		Command:    argv,
		AutoRemove: f.rm,
		Network:    cn.setup.Mode.String(),
		Ports:      cn.setup.Ports,
		UserNS:     &plan,
	}, upperBase)
	if err != nil {
		return err
	}
	if set.Hostname == "" {
		set.Hostname = ctr.ShortID()
	}
	if err := ctr.SaveSettings(set); err != nil {
		cs.Remove(ctr, true)
		return err
	}
	if f.detach {
		// The record names the image from now on: rmi sees it in use.
		if err := ctr.SaveRunning(); err != nil {
			cs.Remove(ctr, true)
			return err
		}
		releaseStore()
		if err := startDetached(cmd, cs, ctr, store.Root(), false, nil); err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), ctr.ID)
		return nil
	}
	first := &prepared{cn: cn, cgroups: cgroups}
	exit, err := superviseForeground(cmd, cs, ctr, set, first, f.fuseDebug, releaseStore)
	var se *run.StartError
	if errors.As(err, &se) {
		return &exitError{code: se.Code, err: se}
	}
	if err != nil {
		return err
	}
	return &exitError{code: exit.Code}
}

// command is the container's argv from the image's Entrypoint and Cmd, the
// user's --entrypoint and arguments, as Docker combines them: arguments
// replace Cmd; --entrypoint replaces Entrypoint and drops the image's Cmd.
func command(img image.Image, entrypointSet bool, entrypoint string, args []string) []string {
	ep, cmd := img.Config.Entrypoint, img.Config.Cmd
	if entrypointSet {
		ep, cmd = nil, nil
		if entrypoint != "" {
			ep = []string{entrypoint}
		}
	}
	if len(args) > 0 {
		cmd = args
	}
	return append(append([]string(nil), ep...), cmd...)
}

func collectMounts(f *runFlags) ([]run.Mount, error) {
	var out []run.Mount
	for _, v := range f.volumes {
		m, err := parseVolume(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range f.mounts {
		m, err := parseMount(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, v := range f.tmpfs {
		m, err := parseTmpfs(v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// userPlan is the user namespace for the invoking user.
func userPlan(mode userns.Mode) (userns.Plan, error) {
	cfg := userns.Config{Mode: mode, UID: os.Getuid(), GID: os.Getgid()}
	return userns.NewPlan(cfg)
}

// upperBase is where containers' writable layers go when not in the
// store: --upper-dir, or node-local storage when the store is on a
// network filesystem (NFS, Lustre, GPFS home directories).
func upperBase(storeRoot, flag string) (string, error) {
	if flag != "" {
		if err := os.MkdirAll(flag, 0o700); err != nil {
			return "", fmt.Errorf("create --upper-dir %s: %w", flag, err)
		}
		return flag, nil
	}
	info, err := fsinfo.Type(storeRoot)
	if err != nil || !info.Network {
		return "", nil
	}
	dir, err := fsinfo.NodeLocalDir(os.Getuid())
	if err != nil {
		return "", fmt.Errorf("the store %s is on %s, a network filesystem, and no node-local directory for containers was found (use --upper-dir): %w", storeRoot, info.Name, err)
	}
	return filepath.Join(dir, "containers"), nil
}

// displayName is how ps shows the image: the name it was run by.
func displayName(img image.Image, ref string) string {
	for _, n := range img.Names {
		if strings.HasSuffix(n, ref) || strings.HasSuffix(n, ref+":latest") {
			return n
		}
	}
	if len(img.Names) > 0 {
		return img.Names[0]
	}
	return ref
}

// parseSignal reads a signal as images and Docker write it: "SIGQUIT",
// "QUIT" or "3"; "" is 0.
func parseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}
