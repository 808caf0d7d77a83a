package userns

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": Auto, "auto": Auto, "subid": SubID, "single": Single, "keep-id": KeepID} {
		got, err := ParseMode(in)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"keepid", "Auto", "host", " single"} {
		_, err := ParseMode(in)
		if !errors.Is(err, ErrBadMode) {
			t.Errorf("ParseMode(%q) error = %v, want ErrBadMode", in, err)
			continue
		}
		for _, name := range []string{"auto", "keep-id", "single", in} {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("ParseMode(%q) error %q does not name %q", in, err, name)
			}
		}
	}
}

func TestModeJSON(t *testing.T) {
	b, err := json.Marshal(Plan{Mode: KeepID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"mode":"keep-id"`) {
		t.Errorf("plan JSON %s lacks the readable mode", b)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil || p.Mode != KeepID {
		t.Errorf("round trip gave %v, %v", p.Mode, err)
	}
	if _, err := json.Marshal(Plan{Mode: Mode(9)}); !errors.Is(err, ErrBadMode) {
		t.Errorf("marshal of Mode(9): %v, want ErrBadMode", err)
	}
}
