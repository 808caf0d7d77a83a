package userns

import (
	"fmt"
	"strconv"
)

// Config says who runs the container and where to find their ids.
type Config struct {
	Mode Mode
	// UID and GID are the invoking user's, normally os.Getuid() and
	// os.Getgid().
	UID, GID int
	// User is the login name; "" looks it up from UID. Subordinate id
	// lines may name the user or its uid number.
	User string
	// SubUIDFile and SubGIDFile default to /etc/subuid and /etc/subgid.
	SubUIDFile, SubGIDFile string
	// GetSubIDs is the getsubids to ask first: "" looks it up in PATH,
	// "-" never asks it (tests that point at their own files set this).
	GetSubIDs string
	// NewUIDMap and NewGIDMap are the helpers; "" looks them up in PATH,
	// then /usr/bin and /usr/sbin.
	NewUIDMap, NewGIDMap string
}

// Plan is how one container's user namespace maps ids. It is plain data:
// the monitor makes it, and may hand it to the child as JSON.
type Plan struct {
	// Mode is the resolved mode: SubID, Single or KeepID, never Auto.
	Mode Mode `json:"mode"`
	// UIDs and GIDs are the container's maps, container id -> host id.
	UIDs []Mapping `json:"uids"`
	GIDs []Mapping `json:"gids"`
	// InnerUIDs and InnerGIDs are keep-id's nested maps, inner id ->
	// outer (container) id, with the user's uid and gid on outer 0 so
	// that inner ids equal host ids for the user. Empty unless KeepID.
	InnerUIDs []Mapping `json:"inner_uids,omitempty"`
	InnerGIDs []Mapping `json:"inner_gids,omitempty"`
	// ContainerUID and ContainerGID are the ids the workload starts as
	// when the image names no user: 0, or the user's own for keep-id.
	ContainerUID int `json:"container_uid"`
	ContainerGID int `json:"container_gid"`
	// Notice is one line for the user when nook ran with fewer ids than
	// asked (Auto fell back to Single, or keep-id has only the user's
	// id), naming why and the fix. Empty otherwise.
	Notice string `json:"notice,omitempty"`
	// NewUIDMap and NewGIDMap are the helpers Apply runs; empty when
	// Apply writes the maps itself (only the user's own id is mapped).
	NewUIDMap string `json:"newuidmap,omitempty"`
	NewGIDMap string `json:"newgidmap,omitempty"`
}

// NewPlan decides the maps for cfg. Auto is SubID when the user has both
// uid and gid ranges and usable newuidmap/newgidmap, and Single with a
// Notice otherwise. SubID without them is an error naming the fix. KeepID
// without them maps only the user. Single never looks at ranges.
func NewPlan(cfg Config) (Plan, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return Plan{}, err
	}
	switch cfg.Mode {
	case Single:
		return singlePlan(cfg), nil
	case Auto, SubID, KeepID:
	default:
		return Plan{}, fmt.Errorf("plan user namespace: %w %d", ErrBadMode, int(cfg.Mode))
	}
	r, short, err := gather(cfg)
	if err != nil {
		return Plan{}, err
	}
	switch {
	case short != nil && cfg.Mode == SubID:
		return Plan{}, short
	case short != nil && cfg.Mode == Auto:
		p := singlePlan(cfg)
		p.Notice = short.notice("running with a single id (chown inside has no effect)")
		return p, nil
	case short != nil: // KeepID
		p := keepIDPlan(cfg, nil, nil)
		p.Notice = short.notice("keep-id maps only your own ids")
		return p, nil
	case cfg.Mode == KeepID:
		p := keepIDPlan(cfg, r.uids, r.gids)
		p.NewUIDMap, p.NewGIDMap = r.newuidmap, r.newgidmap
		return p, nil
	}
	return Plan{
		Mode:      SubID,
		UIDs:      outerMaps(uint32(cfg.UID), r.uids),
		GIDs:      outerMaps(uint32(cfg.GID), r.gids),
		NewUIDMap: r.newuidmap,
		NewGIDMap: r.newgidmap,
	}, nil
}

func singlePlan(cfg Config) Plan {
	return Plan{
		Mode: Single,
		UIDs: outerMaps(uint32(cfg.UID), nil),
		GIDs: outerMaps(uint32(cfg.GID), nil),
	}
}

func keepIDPlan(cfg Config, uids, gids []Range) Plan {
	p := Plan{
		Mode:         KeepID,
		UIDs:         outerMaps(uint32(cfg.UID), uids),
		GIDs:         outerMaps(uint32(cfg.GID), gids),
		ContainerUID: cfg.UID,
		ContainerGID: cfg.GID,
	}
	p.InnerUIDs = innerMaps(uint32(cfg.UID), mappedIDs(p.UIDs))
	p.InnerGIDs = innerMaps(uint32(cfg.GID), mappedIDs(p.GIDs))
	return p
}

// mappedIDs is N for an outer map holding container ids 0..N.
func mappedIDs(m []Mapping) uint32 {
	var n uint32
	for _, l := range m {
		n += l.Size
	}
	return n - 1
}

// resources is what SubID needs, found.
type resources struct {
	uids, gids           []Range
	newuidmap, newgidmap string
}

// gather finds the ranges and helpers, or the first shortfall that rules
// SubID out. The error is for lookups that broke, not for absences.
func gather(cfg Config) (resources, *shortfall, error) {
	var r resources
	u, err := lookupSubIDs(cfg, kindUID)
	if err != nil {
		return r, nil, err
	}
	g, err := lookupSubIDs(cfg, kindGID)
	if err != nil {
		return r, nil, err
	}
	r.uids, r.gids = u.ranges, g.ranges
	if short := missingRanges(cfg, u, g); short != nil {
		return r, short, nil
	}
	var short *shortfall
	if r.newuidmap, short = findHelper(cfg.NewUIDMap, "newuidmap"); short != nil {
		return r, short, nil
	}
	if r.newgidmap, short = findHelper(cfg.NewGIDMap, "newgidmap"); short != nil {
		return r, short, nil
	}
	return r, nil, nil
}

// suggested is the range an admin is told to grant: the one useradd gives
// the first user on most distributions. They will pick a free one.
const suggested = "100000-165535"

func missingRanges(cfg Config, u, g subIDLookup) *shortfall {
	who, login := cfg.who(), cfg.User
	if login == "" {
		login = "LOGIN"
	}
	switch {
	case len(u.ranges) == 0 && len(g.ranges) == 0:
		return &shortfall{
			sentinel: ErrNoSubIDs,
			problem:  fmt.Sprintf("no subordinate uid or gid range for %s %s, %s", who, u.where, g.where),
			fix:      fmt.Sprintf("for: usermod --add-subuids %s --add-subgids %s %s", suggested, suggested, login),
		}
	case len(u.ranges) == 0:
		return &shortfall{
			sentinel: ErrNoSubIDs,
			problem:  fmt.Sprintf("no subordinate uid range for %s %s", who, u.where),
			fix:      fmt.Sprintf("for: usermod --add-subuids %s %s", suggested, login),
		}
	case len(g.ranges) == 0:
		return &shortfall{
			sentinel: ErrNoSubIDs,
			problem:  fmt.Sprintf("no subordinate gid range for %s %s", who, g.where),
			fix:      fmt.Sprintf("for: usermod --add-subgids %s %s", suggested, login),
		}
	}
	return nil
}

// shortfall is why SubID cannot be had, and what an admin can do about
// it. As an error (SubID asked for explicitly) it is one line with the
// fix; as a Notice it also says what nook does instead.
type shortfall struct {
	sentinel error
	problem  string
	fix      string // completes "ask an admin ..."
}

func (s *shortfall) Error() string {
	return s.problem + "; ask an admin " + s.fix + ", or use --userns=single"
}

func (s *shortfall) Unwrap() error { return s.sentinel }

func (s *shortfall) notice(instead string) string {
	return s.problem + "; " + instead + "; to map many ids ask an admin " + s.fix
}

// resolve validates cfg and fills in the login name.
func (c Config) resolve() (Config, error) {
	if c.UID < 0 || int64(c.UID) >= noID || c.GID < 0 || int64(c.GID) >= noID {
		return c, fmt.Errorf("plan user namespace: uid %d / gid %d out of range", c.UID, c.GID)
	}
	if c.User == "" {
		c.User = LoginName(c.UID)
	}
	return c, nil
}

// who names the user in messages.
func (c Config) who() string {
	if c.User != "" {
		return c.User
	}
	return "uid " + strconv.Itoa(c.UID)
}
