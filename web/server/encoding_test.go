package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// compressedSite is a build with the precompressed siblings the Vite build writes.
func compressedSite(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "index.html", `<!doctype html><div id="root"></div>`)
	writeFile(t, dir, "index.html.gz", gzipped(t, `<!doctype html><div id="root"></div>`))
	writeFile(t, dir, "assets/index-abc123.js", `console.log("app")`)
	writeFile(t, dir, "assets/index-abc123.js.gz", gzipped(t, `console.log("app")`))
	writeFile(t, dir, "assets/index-abc123.js.br", "brotli bytes")
	writeFile(t, dir, "assets/plain-abc123.js", `plain()`)
	srv := httptest.NewServer(newSite(dir, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

// getEncoded asks with an explicit Accept-Encoding, so the client hands back the bytes as sent.
func getEncoded(t *testing.T, url, acceptEncoding string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
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

func TestServesThePrecompressedVariantTheBrowserAccepts(t *testing.T) {
	srv := compressedSite(t)
	for _, tc := range []struct {
		name, accept, encoding, body string
	}{
		{"brotli first", "gzip, deflate, br, zstd", "br", "brotli bytes"},
		{"gzip only", "gzip", "gzip", gzipped(t, `console.log("app")`)},
		{"brotli refused by weight", "br;q=0, gzip;q=0.8", "gzip", gzipped(t, `console.log("app")`)},
		{"nothing accepted", "", "", `console.log("app")`},
		{"identity only", "identity", "", `console.log("app")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := getEncoded(t, srv.URL+"/assets/index-abc123.js", tc.accept)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding"); got != tc.encoding {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.encoding)
			}
			if body != tc.body {
				t.Fatalf("body %q, want %q", body, tc.body)
			}
			if got := res.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
				t.Fatalf("Content-Type %q, want the script's, not the archive's", got)
			}
			if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Fatalf("Vary %q, want Accept-Encoding", got)
			}
			if got := res.Header.Get("Cache-Control"); got != cacheImmutable {
				t.Fatalf("Cache-Control %q", got)
			}
		})
	}
}

func TestIndexIsCompressedAndRevalidated(t *testing.T) {
	srv := compressedSite(t)
	res, body := getEncoded(t, srv.URL+"/friends", "gzip, br")
	if res.Header.Get("Content-Encoding") != "gzip" || body != gzipped(t, `<!doctype html><div id="root"></div>`) {
		t.Fatalf("Content-Encoding %q body %q", res.Header.Get("Content-Encoding"), body)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Fatalf("Cache-Control %q, want no-cache", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", got)
	}
}

func TestFileWithoutVariantsIsServedAsIs(t *testing.T) {
	srv := compressedSite(t)
	res, body := getEncoded(t, srv.URL+"/assets/plain-abc123.js", "gzip, br")
	if res.Header.Get("Content-Encoding") != "" || body != `plain()` || res.Header.Get("Vary") != "" {
		t.Fatalf("Content-Encoding %q Vary %q body %q", res.Header.Get("Content-Encoding"), res.Header.Get("Vary"), body)
	}
}
