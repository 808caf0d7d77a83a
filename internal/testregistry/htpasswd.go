package testregistry

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// writeHtpasswd writes an htpasswd file at path with one bcrypt entry,
// made by apache2-utils' htpasswd: docker-registry accepts bcrypt only.
// The password goes on standard input, not the command line.
func writeHtpasswd(path, user, password string) error {
	bin, err := exec.LookPath("htpasswd")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoHtpasswd, err)
	}
	cmd := exec.Command(bin, "-niB", user)
	cmd.Stdin = strings.NewReader(password + "\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("htpasswd -niB %s: %w: %s", user, err, strings.TrimSpace(stderr.String()))
	}
	entry := strings.TrimSpace(string(out))
	if !strings.HasPrefix(entry, user+":$2") {
		return errors.New("htpasswd -niB wrote no bcrypt entry: " + entry)
	}
	if err := os.WriteFile(path, []byte(entry+"\n"), 0o600); err != nil {
		return fmt.Errorf("write htpasswd file: %w", err)
	}
	return nil
}
