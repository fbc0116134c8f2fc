package main

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/ids"
	"github.com/tidings-dev/tidings/functions/internal/objectstore"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// cacheControl lets the viewer's browser keep a picture for a while but no
// shared cache ever: who may see it depends on the session. It is short so
// that unfriending takes effect soon even in the browser.
const cacheControl = "private, max-age=600"

// serve sends a picture to its owner or one of the owner's friends. Everyone
// else, like an unknown or malformed id, gets the same 404: a picture's
// existence is not revealed.
func (f *Function) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		problem.NotFound(w, "No such picture.")
		return
	}
	var key, contentType string
	err := f.pool.QueryRow(ctx, `
		SELECT f.object_key, f.content_type FROM files f
		WHERE f.id = $1 AND (f.owner_id = $2
			OR EXISTS (SELECT 1 FROM friendships fr WHERE fr.user_id = f.owner_id AND fr.friend_id = $2))`,
		id, session.UserID(ctx)).Scan(&key, &contentType)
	if errors.Is(err, pgx.ErrNoRows) {
		problem.NotFound(w, "No such picture.")
		return
	}
	if err != nil {
		f.log.ErrorContext(ctx, "look up picture", "err", err)
		problem.Internal(w)
		return
	}
	// A picture never changes under its id, so the id is its validator.
	etag := `"` + id + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("Vary", "Cookie")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, size, err := f.store.Get(ctx, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		f.log.WarnContext(ctx, "picture row without object", "file", id, "key", key)
		clearCacheHeaders(hdr)
		problem.NotFound(w, "No such picture.")
		return
	}
	if err != nil {
		f.log.ErrorContext(ctx, "read picture", "err", err)
		clearCacheHeaders(hdr)
		problem.Unavailable(w, "Picture storage is unavailable right now.")
		return
	}
	defer body.Close()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.FormatInt(size, 10))
	// Opened directly, the picture is a document with no powers.
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hdr.Set("Content-Disposition", "inline")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, body); err != nil {
		f.log.WarnContext(ctx, "send picture", "err", err)
	}
}

func clearCacheHeaders(h http.Header) {
	h.Del("ETag")
	h.Del("Vary")
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
