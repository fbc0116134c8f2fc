package backing

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serviceTempDir is a t.TempDir that a dropped-privilege server (postgres
// runs as the postgres user when tests run as root) can reach: Go creates
// test temp dirs 0700.
func serviceTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir is <TMPDIR>/<TestName><rand>/<NNN>: loosen exactly those two.
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func progressTo(t *testing.T) Progress {
	return func(msg string) { t.Log(msg) }
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
