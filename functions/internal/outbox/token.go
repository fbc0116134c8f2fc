package outbox

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultTokenFile is where a SinkBinding projects its OIDC token for the
// sink when Knative Eventing's OIDC is on (knative/eventing
// pkg/apis/sources/v1/sinkbinding_lifecycle.go: the token Secret mounted at
// /oidc, key token).
const DefaultTokenFile = "/oidc/token"

// Tokens finds the OIDC token a send presents to its sink, read afresh on
// every send because the cluster rotates it: File holds the one token of a
// SinkBinding; Dir, when set, holds one token per sink, at Dir + the sink
// URL's path (the relay's projected ServiceAccount tokens, knative/services.yaml).
// No file means OIDC is off, and the send carries no token.
type Tokens struct{ File, Dir string }

func (t Tokens) forSink(sink string) (string, error) {
	path := t.File
	if t.Dir != "" {
		u, err := url.Parse(sink)
		if err != nil {
			return "", err
		}
		rel := strings.TrimPrefix(u.Path, "/")
		if !filepath.IsLocal(rel) {
			return "", fmt.Errorf("no token for sink %s", sink)
		}
		path = filepath.Join(t.Dir, filepath.FromSlash(rel))
	}
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("OIDC token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
