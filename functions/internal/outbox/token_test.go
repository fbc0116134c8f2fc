package outbox_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// A send presents the sink's OIDC token as a Bearer token, read from where
// the cluster projects it: a SinkBinding's one file, or the relay's file per
// sink URL path. No file (OIDC off) sends none.
func TestSendsPresentTheSinksToken(t *testing.T) {
	sink := apptest.NewSink(t)
	a := apptest.New(t, "outbox-test", app.Needs{}, sink.URL+"/tidings/users")
	dir := t.TempDir()
	file := filepath.Join(dir, "token")

	a.Outbox.Tokens = outbox.Tokens{File: file}
	if err := emit(t, a, "u1"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if err := os.WriteFile(file, []byte("binding-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := emit(t, a, "u2"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	if err := os.MkdirAll(filepath.Join(dir, "tidings"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tidings", "users"), []byte("relay-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Tokens = outbox.Tokens{Dir: dir}
	if err := emit(t, a, "u3"); err != nil {
		t.Fatal(err)
	}
	a.Outbox.Wait()
	want := []string{"", "Bearer binding-token", "Bearer relay-token"}
	h := sink.Headers()
	if len(h) != len(want) {
		t.Fatalf("%d sends, want %d", len(h), len(want))
	}
	for i, w := range want {
		if got := h[i].Get("Authorization"); got != w {
			t.Errorf("send %d: Authorization %q, want %q", i+1, got, w)
		}
	}
}
