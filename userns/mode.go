package userns

import "fmt"

// Mode is how the container's user namespace maps ids.
type Mode int

const (
	// Auto picks SubID when the user has ranges and the helpers are
	// installed, Single otherwise.
	Auto Mode = iota
	// SubID maps the user to 0 and the subordinate ranges to 1..N.
	SubID
	// Single maps only the user, to 0.
	Single
	// KeepID runs the workload as the user's own uid and gid.
	KeepID
)

// modeNames are the spellings of --userns; "" also means Auto.
var modeNames = [...]string{Auto: "auto", SubID: "subid", Single: "single", KeepID: "keep-id"}

// ParseMode reads a --userns value: auto (or empty), subid, single or keep-id.
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return Auto, nil
	}
	for m, name := range modeNames {
		if s == name {
			return Mode(m), nil
		}
	}
	return Auto, fmt.Errorf("%w %q: use auto, keep-id, single or subid", ErrBadMode, s)
}

func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// MarshalText lets a Plan cross to the child as JSON with readable modes.
func (m Mode) MarshalText() ([]byte, error) {
	if m < 0 || int(m) >= len(modeNames) {
		return nil, fmt.Errorf("%w %d", ErrBadMode, int(m))
	}
	return []byte(modeNames[m]), nil
}

// UnmarshalText is the inverse of MarshalText.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
