// Command upload is the Knative Service behind /api/files: it stores
// pictures in the private bucket (S3_* env) and serves each one only to its
// owner and the owner's friends.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/objectstore"
)

func main() {
	app.Main("upload", app.Needs{Redis: true}, func(a *app.App) (http.Handler, error) {
		cfg, err := objectstore.ConfigFromEnv()
		if err != nil {
			return nil, err
		}
		store := objectstore.New(cfg)
		// The store may still be starting; the first upload tries again.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := store.EnsureBucket(ctx); err != nil {
			a.Log.Warn("picture bucket not ready yet", "bucket", store.Bucket(), "err", err)
		}
		return newHandler(a, store), nil
	})
}

func newHandler(a *app.App, store *objectstore.Store) http.Handler {
	h := &handler{pool: a.Pool, store: store, log: a.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/files", h.upload)
	mux.HandleFunc("GET /api/files/{id}", h.serve)
	return a.SignedInAPI(mux)
}
