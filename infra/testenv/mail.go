package testenv

import (
	"context"
	"testing"

	"github.com/tidings-dev/tidings/infra/backing/mailcatcher"
)

// Mail starts a mail catcher for this test alone, SMTP and HTTP on free
// loopback ports, messages in memory.
func Mail(t testing.TB) *mailcatcher.Catcher {
	t.Helper()
	c, err := mailcatcher.Start(context.Background(), mailcatcher.Config{SMTPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("testenv: start mail catcher: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
