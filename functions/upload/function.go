package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/semaphore"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/objectstore"
)

// Name is the function's Knative Service.
const Name = "upload"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true}

// Function stores pictures in the private bucket (S3_* settings) and serves
// each one to its owner and the owner's friends only.
type Function struct {
	http.Handler
	pool  *pgxpool.Pool
	store *objectstore.Store
	log   *slog.Logger
	quota quota
	// decoding holds the bytes of decodeBudget the pictures being
	// re-encoded take (strip.go).
	decoding *semaphore.Weighted
}

// New builds the function on the runtime's connections and the bucket the
// environment names.
func New(a *app.App) (*Function, error) {
	cfg, err := objectstore.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	q, err := quotaFromEnv()
	if err != nil {
		return nil, err
	}
	f := &Function{pool: a.Pool, store: objectstore.New(cfg), log: a.Log, quota: q, decoding: semaphore.NewWeighted(decodeBudget)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/files", f.upload)
	mux.HandleFunc("GET /api/files/{id}", f.serve)
	outer := http.NewServeMux()
	outer.HandleFunc("POST "+SweepPath, f.sweepHTTP)
	outer.Handle("/", a.SignedInAPI(mux))
	f.Handler = outer
	return f, nil
}

// Start makes sure the bucket exists. The store may still be starting, so a
// failure is only logged: the first upload tries again.
func (f *Function) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.store.EnsureBucket(ctx); err != nil {
		f.log.Warn("picture bucket not ready yet", "bucket", f.store.Bucket(), "err", err)
	}
	return nil
}
