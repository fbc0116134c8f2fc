package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets a test run this binary's main as a child process.
func TestMain(m *testing.M) {
	if os.Getenv("WEB_SERVER_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Without index.html in $KO_DATA_PATH (an image built before `npm run build`)
// the server exits non-zero with a message saying what is missing and how to
// build it, instead of serving a placeholder that passes every health check.
func TestRefusesToStartWithoutBuild(t *testing.T) {
	for name, setup := range map[string]func(dir string){
		"empty":        func(string) {},
		"assets only":  func(dir string) { writeFile(t, dir, "assets/app.js", "x") },
		"index is dir": func(dir string) { os.MkdirAll(filepath.Join(dir, "index.html"), 0o755) }, //nolint:errcheck
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			setup(dir)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "WEB_SERVER_RUN_MAIN=1", "KO_DATA_PATH="+dir, "PORT=0")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			// A process killed at the deadline has ExitCode -1: it kept serving.
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("server with no build: err %v, want a non-zero exit; output:\n%s", err, out.String())
			}
			for _, want := range []string{"index.html", dir, "npm run build"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output does not name %q:\n%s", want, out.String())
				}
			}
		})
	}
}
