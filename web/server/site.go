package main

import (
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/tidings-dev/tidings/functions/problem"
)

// Cache policies: Vite puts a content hash in every file name under
// /assets/, so those never change; index.html names the current hashes and
// must be checked every time.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	cacheShort      = "public, max-age=3600"
)

// contentSecurityPolicy keeps the page to its own origin; blob: lets the
// composer preview a picture before it is uploaded.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"

// site serves one folder of built files as a single-page app.
type site struct {
	dir    string
	files  fs.FS
	logger *slog.Logger
}

func newSite(dir string, logger *slog.Logger) *site {
	return &site{dir: dir, files: os.DirFS(dir), logger: logger}
}

// built reports whether the folder holds a build (an index.html).
func (s *site) built() bool {
	info, err := fs.Stat(s.files, "index.html")
	return err == nil && !info.IsDir()
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")

	urlPath := path.Clean("/" + r.URL.Path)
	// An /api/ path that reached us has no function behind it: answer like the API would.
	if urlPath == "/api" || strings.HasPrefix(urlPath, "/api/") {
		problem.Platform(w, http.StatusNotFound, "no such API route")
		return
	}

	name := strings.TrimPrefix(urlPath, "/")
	if path.Ext(urlPath) == "" || name == "index.html" {
		// A client-side route: the app decides what it shows.
		s.serveIndex(w, r)
		return
	}
	f, encoding, err := openEncoded(s.files, name, r, h)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.logger.Error("open static file", "name", name, "err", err)
		}
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		http.NotFound(w, r)
		return
	}
	if strings.HasPrefix(urlPath, "/assets/") {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheShort)
	}
	content, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "cannot serve this file", http.StatusInternalServerError)
		return
	}
	setEncoding(h, encoding, name)
	http.ServeContent(w, r, name, info.ModTime(), content)
}

func (s *site) serveIndex(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	f, encoding, err := openEncoded(s.files, "index.html", r, h)
	if err != nil {
		s.logger.Error("open index.html", "err", err)
		http.Error(w, "the web app is missing", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "the web app is missing", http.StatusInternalServerError)
		return
	}
	h.Set("Cache-Control", cacheRevalidate)
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Content-Type", "text/html; charset=utf-8")
	content, ok := f.(io.ReadSeeker)
	if !ok {
		http.Error(w, "the web app is missing", http.StatusInternalServerError)
		return
	}
	setEncoding(h, encoding, "index.html")
	http.ServeContent(w, r, "index.html", info.ModTime(), content)
}

// setEncoding labels a precompressed body: its coding, and the type of the
// file it was made from (ServeContent would otherwise guess from the bytes).
func setEncoding(h http.Header, encoding, name string) {
	if encoding == "" {
		return
	}
	h.Set("Content-Encoding", encoding)
	if h.Get("Content-Type") == "" {
		if t := mime.TypeByExtension(path.Ext(name)); t != "" {
			h.Set("Content-Type", t)
		}
	}
}
