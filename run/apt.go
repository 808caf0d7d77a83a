package run

import (
	"fmt"
	"os"
	"strings"
)

// aptConfigPath is where the single-id mode's apt configuration goes: on
// the container's own /dev tmpfs, so that the image's tree is untouched.
const aptConfigPath = "/dev/.nook-apt.conf"

// singleIDAptConfig lets apt-get work with one id. apt drops privileges to
// its _apt user for downloads and then checks that it did; the seccomp
// filter makes the switch succeed without effect, so the check fails
// ("Could not switch group"). Charliecloud's answer is the same: tell apt
// to stay root. It returns the variable to add to the environment, or ""
// when the image has no apt or the user set APT_CONFIG.
func singleIDAptConfig(env []string) (string, error) {
	for _, kv := range env {
		if strings.HasPrefix(kv, "APT_CONFIG=") {
			return "", nil
		}
	}
	if _, err := os.Stat("/etc/apt"); err != nil {
		return "", nil
	}
	conf := "// nook: single-id user namespace (see nook run --userns)\nAPT::Sandbox::User \"root\";\n"
	// APT_CONFIG replaces /etc/apt/apt.conf; keep what the image has there.
	if _, err := os.Stat("/etc/apt/apt.conf"); err == nil {
		conf += "#include \"/etc/apt/apt.conf\";\n"
	}
	if err := os.WriteFile(aptConfigPath, []byte(conf), 0o644); err != nil {
		return "", fmt.Errorf("write apt's single-id configuration: %w", err)
	}
	return "APT_CONFIG=" + aptConfigPath, nil
}
