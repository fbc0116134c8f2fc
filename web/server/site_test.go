package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// builtSite is a temp folder shaped like a Vite build.
func builtSite(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "index.html", `<!doctype html><title>Tidings</title><div id="root"></div>`)
	writeFile(t, dir, "assets/index-abc123.js", `console.log("app")`)
	writeFile(t, dir, "assets/index-abc123.css", `body{}`)
	writeFile(t, dir, "favicon.svg", `<svg xmlns="http://www.w3.org/2000/svg"/>`)
	srv := httptest.NewServer(newSite(dir, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestClientRoutesFallBackToIndex(t *testing.T) {
	srv := builtSite(t)
	for _, p := range []string{"/", "/friends", "/users/u_123", "/profile", "/notifications", "/index.html"} {
		res, body := get(t, srv.URL+p)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", p, res.StatusCode)
		}
		if !strings.Contains(body, `<div id="root">`) {
			t.Fatalf("%s: body is not index.html: %q", p, body)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Fatalf("%s: Cache-Control %q, want no-cache", p, got)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type %q", p, ct)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("%s: no Content-Security-Policy on the page", p)
		}
	}
}

func TestHashedAssetsAreCachedForever(t *testing.T) {
	srv := builtSite(t)
	res, body := get(t, srv.URL+"/assets/index-abc123.js")
	if res.StatusCode != http.StatusOK || body != `console.log("app")` {
		t.Fatalf("asset: status %d body %q", res.StatusCode, body)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Fatalf("asset Cache-Control %q", got)
	}
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("asset Content-Type %q", ct)
	}
	res, _ = get(t, srv.URL+"/favicon.svg")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("favicon: status %d", res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); strings.Contains(got, "immutable") {
		t.Fatalf("unhashed file must not be immutable, got %q", got)
	}
}

func TestMissingFilesAre404NotIndex(t *testing.T) {
	srv := builtSite(t)
	for _, p := range []string{"/assets/index-gone.js", "/missing.png", "/assets/../../etc/passwd.txt", "/assets"} {
		res, body := get(t, srv.URL+p)
		if p == "/assets" {
			// no extension: a client route, so the app answers
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", p, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: status %d, want 404", p, res.StatusCode)
		}
		if strings.Contains(body, `id="root"`) {
			t.Fatalf("%s: a missing file must not get index.html", p)
		}
	}
}

func TestUnknownAPIPathIsProblemJSON(t *testing.T) {
	srv := builtSite(t)
	res, body := get(t, srv.URL+"/api/nothing-here")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if !strings.Contains(body, `"status":404`) {
		t.Fatalf("body %q", body)
	}
}

func TestHealthzAndMethods(t *testing.T) {
	srv := builtSite(t)
	res, body := get(t, srv.URL+"/healthz")
	if res.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}
	res, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: status %d, want 405", res.StatusCode)
	}
}

func TestSiteDirPrefersKoDataPath(t *testing.T) {
	if got := siteDir("/var/run/ko"); got != "/var/run/ko" {
		t.Fatalf("siteDir = %q", got)
	}
	t.Chdir(t.TempDir())
	if got := siteDir(""); got != filepath.Join("web", "server", "kodata") {
		t.Fatalf("without a build, siteDir = %q", got)
	}
	if err := os.Mkdir("kodata", 0o755); err != nil {
		t.Fatal(err)
	}
	if got := siteDir(""); got != "kodata" {
		t.Fatalf("from web/server, siteDir = %q", got)
	}
}
