package fuseunion

import (
	"os"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// idTranslation presents the owners of upper files, which the host
// filesystem holds as the server's own ids, as the ids that user has on
// the container's side of the FUSE connection (Config.Owner), and squashes
// every owner to those ids when the container maps only one (Config.Squash).
type idTranslation struct {
	hostUID, hostGID   uint32
	ownerUID, ownerGID uint32
	squashAll          bool
}

func newIDTranslation(cfg Config) idTranslation {
	t := idTranslation{hostUID: uint32(os.Geteuid()), hostGID: uint32(os.Getegid())}
	t.ownerUID, t.ownerGID = t.hostUID, t.hostGID
	if cfg.Owner != nil {
		t.ownerUID, t.ownerGID = cfg.Owner.UID, cfg.Owner.GID
	}
	t.squashAll = cfg.Squash
	return t
}

// host returns the container-side owner of an upper file without a
// recorded owner.
func (t *idTranslation) host(st *unix.Stat_t) (uid, gid uint32) {
	uid, gid = st.Uid, st.Gid
	if uid == t.hostUID {
		uid = t.ownerUID
	}
	if gid == t.hostGID {
		gid = t.ownerGID
	}
	return uid, gid
}

// squash applies Config.Squash to attributes about to be sent.
func (t *idTranslation) squash(out *fuse.Attr) {
	if t.squashAll {
		out.Uid, out.Gid = t.ownerUID, t.ownerGID
	}
}
