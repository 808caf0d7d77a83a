package userns

import "syscall"

// Direct reports whether the maps need no helper: only the user's own ids
// are mapped, which an unprivileged parent may write itself. The child
// can then be started with the maps already written (SysProcIDMaps), and
// its first exec gains the namespace's capabilities: one re-execution of
// nook less on every start.
func (p Plan) Direct() bool {
	return p.NewUIDMap == "" || p.NewGIDMap == ""
}

// SysProcIDMaps are the maps in the form os/exec writes them between the
// clone and the exec (SysProcAttr.UidMappings and GidMappings, with
// GidMappingsEnableSetgroups false: the kernel wants setgroups denied
// before an unprivileged process writes gid_map, as Apply does).
func (p Plan) SysProcIDMaps() (uids, gids []syscall.SysProcIDMap) {
	return sysProcMaps(p.UIDs), sysProcMaps(p.GIDs)
}

func sysProcMaps(m []Mapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, l := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(l.ContainerID), HostID: int(l.HostID), Size: int(l.Size)}
	}
	return out
}
