package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/problem"
)

// SweepPath is where a PingSource wakes the sweep. It is outside /api/, so
// the gateway's HTTPRoute never routes a browser to it.
const SweepPath = "/sweep"

// unattachedAge is how long a picture may wait for its post: a person may
// upload, then take a while to write.
const unattachedAge = 24 * time.Hour

// sweepBatch bounds one sweep; a backlog takes a few pings.
const sweepBatch = 500

type sweepResult struct {
	Removed int `json:"removed"`
}

// sweepHTTP answers POST /sweep (the PingSource's CloudEvent, or an
// operator's curl) with one sweep of pictures never attached to a post.
func (f *Function) sweepHTTP(w http.ResponseWriter, r *http.Request) {
	n, err := f.sweep(r.Context(), unattachedAge, sweepBatch)
	if n > 0 {
		f.log.InfoContext(r.Context(), "unattached pictures removed", "removed", n)
	}
	if err != nil {
		f.log.ErrorContext(r.Context(), "picture sweep", "err", err)
		problem.Unavailable(w, "The sweep could not finish; the next one carries on.")
		return
	}
	jsonbody.Write(w, http.StatusOK, sweepResult{Removed: n})
}

// sweep removes up to limit pictures older than age that no post uses: the
// objects, then their rows, in one transaction per sweep. A row is deleted
// only after its object is: if the store fails, the row stays (and still
// counts against the quota) for the next sweep, so no object is ever left
// with nothing pointing at it. The rows are locked as they are chosen, and a
// post that attaches one meanwhile waits for the lock and then finds the
// picture gone (a foreign-key error) instead of pointing at a deleted object.
func (f *Function) sweep(ctx context.Context, age time.Duration, limit int) (int, error) {
	removed := 0
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, object_key FROM files f
			WHERE f.created_at < now() - make_interval(secs => $1)
			AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.file_id = f.id)
			ORDER BY f.created_at
			LIMIT $2
			FOR UPDATE SKIP LOCKED`, age.Seconds(), limit)
		if err != nil {
			return err
		}
		type file struct{ id, key string }
		var files []file
		var fl file
		if _, err := pgx.ForEachRow(rows, []any{&fl.id, &fl.key}, func() error { files = append(files, fl); return nil }); err != nil {
			return err
		}
		var done []string
		var storeErr error
		for _, fl := range files {
			if err := f.store.Delete(ctx, fl.key); err != nil {
				storeErr = fmt.Errorf("delete object: %w", err)
				break
			}
			done = append(done, fl.id)
		}
		// Posts created since the select still see the rows locked; the
		// NOT EXISTS again guards a post that committed in between.
		tag, err := tx.Exec(ctx, `DELETE FROM files f WHERE f.id = ANY($1::uuid[])
			AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.file_id = f.id)`, done)
		if err != nil {
			return err
		}
		removed = int(tag.RowsAffected())
		return storeErr
	})
	return removed, err
}
