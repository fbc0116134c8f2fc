package backing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// The MinIO server we build when the machine has none. MinIO no longer
// publishes binaries for every platform, so we compile a pinned version.
const (
	MinIOModule  = "github.com/minio/minio"
	MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"
)

// Fixed local development credentials. They only ever guard a server bound
// to loopback.
const (
	MinIOAccessKey = "tidings"
	MinIOSecretKey = "tidings-local-dev-secret-key"
)

// MinIO is a real MinIO server run as a child process.
type MinIO struct {
	AccessKey string
	SecretKey string

	port, consolePort int
	proc              *child
}

// StartMinIO runs the MinIO server on 127.0.0.1:port (console on
// consolePort) with its objects under dataDir/data, building the binary on
// first use (see MinIOBinary), and waits for /minio/health/ready.
func StartMinIO(ctx context.Context, dataDir string, port, consolePort int, progress Progress) (*MinIO, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	consoleAddr := fmt.Sprintf("127.0.0.1:%d", consolePort)
	if err := ensurePortFree("minio", addr); err != nil {
		return nil, err
	}
	if err := ensurePortFree("minio console", consoleAddr); err != nil {
		return nil, err
	}
	bin, err := MinIOBinary(ctx, progress)
	if err != nil {
		return nil, err
	}
	dataDir, err = filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("minio: %w", err)
	}
	// Objects live in a sub-directory: MinIO treats every top-level entry of
	// its drive as a bucket, so our log file must stay outside it.
	drive := filepath.Join(dataDir, "data")
	if err := os.MkdirAll(drive, 0o755); err != nil {
		return nil, fmt.Errorf("minio: create data dir: %w", err)
	}
	progress.say("minio: starting on " + addr + " (console " + consoleAddr + ")")
	proc, err := startChild(childSpec{
		name: "minio",
		path: bin,
		args: []string{"server", "--address", addr, "--console-address", consoleAddr, drive},
		env: []string{
			"MINIO_ROOT_USER=" + MinIOAccessKey,
			"MINIO_ROOT_PASSWORD=" + MinIOSecretKey,
			"MINIO_UPDATE=off",
		},
		dir:        dataDir,
		logPath:    filepath.Join(dataDir, "minio.log"),
		stopSignal: syscall.SIGTERM,
	})
	if err != nil {
		return nil, err
	}
	m := &MinIO{AccessKey: MinIOAccessKey, SecretKey: MinIOSecretKey, port: port, consolePort: consolePort, proc: proc}
	if err := proc.waitReady(ctx, 90*time.Second, answers200(m.Endpoint()+"/minio/health/ready")); err != nil {
		return nil, err
	}
	progress.say("minio: ready on " + m.Endpoint())
	return m, nil
}

// Endpoint is the S3 API base URL (use path-style addressing).
func (m *MinIO) Endpoint() string { return fmt.Sprintf("http://127.0.0.1:%d", m.port) }

// ConsoleURL is the MinIO web console.
func (m *MinIO) ConsoleURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.consolePort) }

// Stop asks MinIO to shut down and waits.
func (m *MinIO) Stop(ctx context.Context) error { return m.proc.stop(ctx) }

// MinIOBinary returns the path of a MinIO server binary: $TIDINGS_MINIO_BIN
// if set (it must exist), else the cached build in
// <user cache dir>/tidings/bin/minio, else it builds MinIOVersion into that
// cache with `go install` (a few minutes, once per machine), reporting
// progress every ten seconds. Concurrent callers, even in other processes,
// share one build.
func MinIOBinary(ctx context.Context, progress Progress) (string, error) {
	return minioBinary.path(ctx, progress)
}

// MinIOBinaryBuilt reports whether MinIOBinary would answer without
// building (tests use it to skip in -short mode on a fresh machine).
func MinIOBinaryBuilt() bool { return minioBinary.built() }

var minioBinary = cachedBinary{
	name:   "minio",
	envVar: "TIDINGS_MINIO_BIN",
	file:   "minio",
	spec:   goInstallSpec{pkg: MinIOModule + "@" + MinIOVersion, binName: "minio", label: "building MinIO (first run only, ~4 min)…"},
}

// cachedBinary is a server the local stack builds from source once per
// machine and keeps in <user cache dir>/tidings/bin.
type cachedBinary struct {
	name   string // for messages, the lock and the build log
	envVar string // names a binary to use instead
	file   string // the cached binary's name (versioned when the version changes)
	spec   goInstallSpec
}

// path returns $envVar if set (it must exist), else the cached build,
// building it first if there is none. Concurrent callers, even in other
// processes, share one build.
func (c cachedBinary) path(ctx context.Context, progress Progress) (string, error) {
	if p := os.Getenv(c.envVar); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("%s: %s=%s is not an executable file", c.name, c.envVar, p)
		}
		return p, nil
	}
	dest, err := c.cachePath()
	if err != nil {
		return "", err
	}
	if isExecutable(dest) {
		return dest, nil
	}
	cacheDir := filepath.Dir(filepath.Dir(dest))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", c.name, err)
	}
	unlock, err := lockFile(ctx, filepath.Join(cacheDir, c.name+"-build.lock"), func() {
		progress.say(c.name + ": waiting for another process that is building it…")
	})
	if err != nil {
		return "", fmt.Errorf("%s: lock build: %w", c.name, err)
	}
	defer unlock()
	if isExecutable(dest) { // built by whoever held the lock before us
		return dest, nil
	}
	spec := c.spec
	spec.dest, spec.logPath, spec.every, spec.progress = dest, filepath.Join(cacheDir, c.name+"-build.log"), 10*time.Second, progress
	if err := goInstall(ctx, spec); err != nil {
		return "", fmt.Errorf("%s: %w", c.name, err)
	}
	return dest, nil
}

// built reports whether path would answer without building.
func (c cachedBinary) built() bool {
	if p := os.Getenv(c.envVar); p != "" {
		return isExecutable(p)
	}
	dest, err := c.cachePath()
	return err == nil && isExecutable(dest)
}

func (c cachedBinary) cachePath() (string, error) {
	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s: no cache dir for the build: %w", c.name, err)
	}
	return filepath.Join(cacheRoot, "tidings", "bin", c.file), nil
}

type goInstallSpec struct {
	pkg string // module/path@version; a package of moduleDir's build list when moduleDir is set
	// moduleDir, when set, is a module that pins pkg (and whatever its
	// go.mod must replace, which go install pkg@version refuses): pkg is
	// built there with go build.
	moduleDir string
	binName   string // the binary go install produces
	dest      string // where the finished binary goes
	logPath   string
	label     string
	every     time.Duration
	progress  Progress
	env       []string // extra environment, for tests
}

// goInstall builds spec.pkg into a temporary GOBIN next to spec.dest and
// renames the result into place, so a half-written binary is never found.
func goInstall(ctx context.Context, spec goInstallSpec) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if gr := os.Getenv("GOROOT"); gr != "" && isExecutable(filepath.Join(gr, "bin", "go")) {
			goCmd = filepath.Join(gr, "bin", "go")
		} else {
			return fmt.Errorf("the go command is needed to build %s: %w", spec.pkg, err)
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Dir(spec.dest)), "bin-tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logFile, err := os.Create(spec.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	tail := newTailBuffer(16 << 10)

	cmd := exec.CommandContext(ctx, goCmd, "install", spec.pkg)
	cmd.Dir = tmp // outside any module, so go.mod/go.work around us play no part
	if spec.moduleDir != "" {
		cmd = exec.CommandContext(ctx, goCmd, "build", "-o", filepath.Join(tmp, spec.binName), spec.pkg)
		cmd.Dir = spec.moduleDir
	}
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOWORK=off")
	cmd.Env = append(cmd.Env, spec.env...)
	cmd.Stdout = io.MultiWriter(logFile, tail)
	cmd.Stderr = cmd.Stdout

	start := time.Now()
	spec.progress.say(spec.label)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go install %s: %w", spec.pkg, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(spec.every)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("go install %s failed after %s: %w (log %s)\n%s", spec.pkg, time.Since(start).Round(time.Second), err, spec.logPath, tail.lastLines(20))
			}
			built := filepath.Join(tmp, spec.binName)
			if _, err := os.Stat(built); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("go install %s produced no %s binary", spec.pkg, spec.binName)
			}
			if err := os.Rename(built, spec.dest); err != nil {
				return fmt.Errorf("move built binary into place: %w", err)
			}
			spec.progress.say(fmt.Sprintf("%s done in %s", spec.label, time.Since(start).Round(time.Second)))
			return nil
		case <-tick.C:
			spec.progress.say(fmt.Sprintf("%s %s", spec.label, time.Since(start).Round(time.Second)))
		}
	}
}
