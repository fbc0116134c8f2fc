package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that was free when asked. Another
// process may take it before you bind, so callers that start servers retry.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	return p
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// RandomName returns prefix followed by 16 random hex digits: lower case,
// so it is valid as a database, bucket, topic or Redis key name.
func RandomName(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
