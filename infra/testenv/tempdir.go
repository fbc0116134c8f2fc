package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// privateDir makes a temp dir for a server shared by this test binary. Test
// binaries have no hook that runs at exit, so instead each new one removes
// the dirs of earlier binaries that are gone.
func privateDir(kind string) (string, error) {
	sweepDeadDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("tidings-testenv-%s-%d-", kind, os.Getpid()))
	if err != nil {
		return "", err
	}
	// Servers that drop root privileges (postgres) must be able to enter it.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

func sweepDeadDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "tidings-testenv-*"))
	for _, dir := range matches {
		// tidings-testenv-<kind>-<pid>-<random>
		parts := strings.Split(filepath.Base(dir), "-")
		if len(parts) < 5 {
			continue
		}
		pid, err := strconv.Atoi(parts[3])
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
