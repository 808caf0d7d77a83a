package bench

import (
	"fmt"
	"strings"
)

// printLifecycleConfig prints the lifecycle benchmark's configuration
// lines; the life-* ones describe the Lifecycle table.
func printLifecycleConfig(peers []lifecyclePeer) {
	busybox := strings.TrimSuffix(version("busybox"), " multi-call binary.")
	fmt.Printf("life-image: imagetest busybox (%s, one layer), %s\n", busybox, runImage)
	fmt.Printf("life-containers: %d at once, each started, then each stopped, then each removed, one command at a time\n", lifecycleCount)
	fmt.Println("life-memory: read while all the containers run, idle: VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup); " +
		"supervisor: nook's monitor (`nook __monitor`, which also serves the root over FUSE), podman's conmon; " +
		"all processes: nook's monitors and their descendants (the workloads), podman's conmons and their descendants " +
		"(the workloads) and fuse-overlayfs processes, not podman's pause process (one for all containers)")
	for _, p := range peers {
		if p.bin == "" {
			continue
		}
		shown := p
		shown.bin = p.name
		fmt.Printf("life-peer-%s: `%s`, `%s`, `%s`\n", p.name,
			strings.Join(shown.startArgs("NAME"), " "), strings.Join(shown.stopArgs("NAME"), " "), strings.Join(shown.rmArgs("NAME"), " "))
	}
	fmt.Printf("podman: %s; %s; %s\n", version("podman", "--version"), version("runc", "--version"), version("conmon", "--version"))
}
