package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/problem"
)

// quota bounds what one account may keep in the bucket: pictures never
// attached to a post count too, until the sweep removes them.
type quota struct {
	files int   // UPLOAD_QUOTA_FILES, default 1000
	bytes int64 // UPLOAD_QUOTA_BYTES, default 1 GiB
}

func quotaFromEnv() (quota, error) {
	files, err := config.Int("UPLOAD_QUOTA_FILES", 1000)
	if err != nil {
		return quota{}, err
	}
	bytes, err := config.Int("UPLOAD_QUOTA_BYTES", 1<<30)
	if err != nil {
		return quota{}, err
	}
	return quota{files: files, bytes: int64(bytes)}, nil
}

// errOverQuota means one more picture of that size would not fit.
var errOverQuota = errors.New("upload quota exceeded")

// fits reports errOverQuota when owner's pictures plus one of size would
// exceed the quota. q is a transaction or the pool.
func (f *Function) fits(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, owner string, size int) error {
	var n int
	var used int64
	err := q.QueryRow(ctx, `SELECT count(*), coalesce(sum(size), 0)::bigint FROM files WHERE owner_id = $1`, owner).Scan(&n, &used)
	if err != nil {
		return fmt.Errorf("quota: %w", err)
	}
	if n+1 > f.quota.files || used+int64(size) > f.quota.bytes {
		return errOverQuota
	}
	return nil
}

// record inserts the picture's row if it fits the owner's quota. The
// owner's advisory lock serialises their uploads, so two at once cannot
// both take the last place.
func (f *Function) record(ctx context.Context, owner, key, contentType string, size int) (string, error) {
	var id string
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('upload-quota:' || $1, 0))`, owner); err != nil {
			return err
		}
		if err := f.fits(ctx, tx, owner, size); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO files (owner_id, object_key, content_type, size) VALUES ($1, $2, $3, $4) RETURNING id::text`,
			owner, key, contentType, size).Scan(&id)
	})
	return id, err
}

func (f *Function) overQuota(w http.ResponseWriter) {
	problem.Write(w, http.StatusForbidden, "quota-exceeded", "Upload quota exceeded",
		fmt.Sprintf("You may keep at most %d pictures and %d MiB; pictures not in a post are removed after a day.", f.quota.files, f.quota.bytes>>20),
		problem.FieldError{Field: "file", Detail: "does not fit your upload quota"})
}
