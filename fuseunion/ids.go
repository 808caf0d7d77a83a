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
	uids, gids         []IDRange // nil: the identity
}

// nobody is what an id outside the map shows as (the kernel's overflow id).
const nobody = 65534

func newIDTranslation(cfg Config) idTranslation {
	t := idTranslation{hostUID: uint32(os.Geteuid()), hostGID: uint32(os.Getegid())}
	t.ownerUID, t.ownerGID = t.hostUID, t.hostGID
	if cfg.Owner != nil {
		t.ownerUID, t.ownerGID = cfg.Owner.UID, cfg.Owner.GID
	}
	t.squashAll = cfg.Squash
	if cfg.IDMap != nil {
		t.uids, t.gids = cfg.IDMap.UIDs, cfg.IDMap.GIDs
	}
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

// out turns the owner in attributes about to be sent into the
// connection's ids, squashing them first under Config.Squash.
func (t *idTranslation) out(a *fuse.Attr) {
	if t.squashAll {
		a.Uid, a.Gid = t.ownerUID, t.ownerGID
	}
	a.Uid, a.Gid = toConn(t.uids, a.Uid), toConn(t.gids, a.Gid)
}

// in turns a request's ids (the caller's, or chown's) into stored ids.
func (t *idTranslation) in(uid, gid uint32) (uint32, uint32) {
	return fromConn(t.uids, uid), fromConn(t.gids, gid)
}

func (t *idTranslation) uidIn(uid uint32) uint32 { return fromConn(t.uids, uid) }
func (t *idTranslation) gidIn(gid uint32) uint32 { return fromConn(t.gids, gid) }

func toConn(m []IDRange, id uint32) uint32 {
	if m == nil {
		return id
	}
	for _, r := range m {
		if id >= r.Container && id-r.Container < r.Size {
			return r.Conn + id - r.Container
		}
	}
	return nobody
}

func fromConn(m []IDRange, id uint32) uint32 {
	if m == nil {
		return id
	}
	for _, r := range m {
		if id >= r.Conn && id-r.Conn < r.Size {
			return r.Container + id - r.Conn
		}
	}
	return nobody
}
