package serving

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// KoScheme is the prefix ko uses for images built from a Go import path.
const KoScheme = "ko://"

// BuildConfig says what to build and where.
type BuildConfig struct {
	// ImportPath is the main package, with or without the ko:// prefix.
	ImportPath string
	// OutDir receives the binary.
	OutDir string
	// ModuleDir is the module root the build runs in.
	ModuleDir string
	// Name is the binary's file name; default: the last element of ImportPath,
	// which is the name ko gives it.
	Name string
}

// Build compiles a ko:// import path into a local binary the way ko does
// (CGO_ENABLED=0, -trimpath) and returns its path. Builds may run
// concurrently, also for the same binary: each writes a temporary file and
// renames it into place, so a running process keeps its old executable.
func Build(ctx context.Context, cfg BuildConfig) (string, error) {
	importPath := strings.TrimPrefix(cfg.ImportPath, KoScheme)
	if importPath == "" {
		return "", errors.New("build: empty import path")
	}
	if cfg.OutDir == "" {
		return "", fmt.Errorf("build %s: no output directory", importPath)
	}
	name := cfg.Name
	if name == "" {
		name = path.Base(importPath)
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", importPath, err)
	}
	outDir, err := filepath.Abs(cfg.OutDir)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", importPath, err)
	}
	tmp, err := os.CreateTemp(outDir, "."+name+".build-*")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", importPath, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // no-op after a successful rename

	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp.Name(), importPath)
	cmd.Dir = cfg.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", importPath, err, strings.TrimSpace(out.String()))
	}
	bin := filepath.Join(outDir, name)
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("build %s: %w", importPath, err)
	}
	return bin, nil
}

// KoDataPath returns the kodata directory ko would ship with the main package
// at importPath (<package dir>/kodata), which locally becomes $KO_DATA_PATH.
// The directory may not exist.
func KoDataPath(ctx context.Context, moduleDir, importPath string) (string, error) {
	importPath = strings.TrimPrefix(importPath, KoScheme)
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", importPath)
	cmd.Dir = moduleDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w\n%s", importPath, err, strings.TrimSpace(stderr.String()))
	}
	return filepath.Join(strings.TrimSpace(string(out)), "kodata"), nil
}
