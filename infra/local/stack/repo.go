package stack

import (
	"errors"
	"os"
	"path/filepath"
)

// FindRepo finds the Tidings checkout (go.mod next to knative/) from the
// working directory up, so the commands run from anywhere inside it.
func FindRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "knative")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run this inside the Tidings checkout (no go.mod with knative/ found)")
		}
		dir = parent
	}
}
