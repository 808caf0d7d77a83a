package userns

import (
	"os/user"
	"strconv"
	"testing"
)

func TestLoginNameFromPasswd(t *testing.T) {
	u, err := user.LookupId(strconv.Itoa(0))
	if err != nil {
		t.Fatalf("uid 0 is not in /etc/passwd: %v", err)
	}
	if got := LoginName(0); got != u.Username {
		t.Errorf("LoginName(0) = %q, want %q", got, u.Username)
	}
}

// A uid that no database knows takes its name from $USER, unless $USER
// names somebody else.
func TestLoginNameFromEnvironment(t *testing.T) {
	const unknown = 987654
	if _, err := user.LookupId(strconv.Itoa(unknown)); err == nil {
		t.Fatalf("uid %d unexpectedly exists", unknown)
	}
	t.Setenv("LOGNAME", "")
	t.Setenv("USER", "nobody-of-this-machine")
	if got := LoginName(unknown); got != "nobody-of-this-machine" {
		t.Errorf("LoginName with $USER set = %q", got)
	}
	t.Setenv("USER", "root")
	if got := LoginName(unknown); got != "" {
		t.Errorf("LoginName took $USER=root for uid %d: %q", unknown, got)
	}
}
