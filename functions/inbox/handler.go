package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/page"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// MaxReadIDs bounds one "mark these read" request.
const MaxReadIDs = 100

type listResponse struct {
	Notifications []notification.Item `json:"notifications"`
	NextCursor    *string             `json:"nextCursor"`
	Unread        int                 `json:"unread"`
}

func (f *Function) list(w http.ResponseWriter, r *http.Request) {
	p, errs := page.Parse(r.URL.Query())
	if len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}
	ctx, user := r.Context(), session.UserID(r.Context())
	items, unread, err := f.page(ctx, user, p)
	if err != nil {
		f.log.ErrorContext(ctx, "list notifications", "user", user, "err", err)
		problem.Internal(w)
		return
	}
	items, next := page.Cut(items, p.Limit, func(it notification.Item) (time.Time, string) { return it.CreatedAt, it.ID })
	if items == nil {
		items = []notification.Item{}
	}
	jsonbody.Write(w, http.StatusOK, listResponse{Notifications: items, NextCursor: next, Unread: unread})
}

// page reads limit+1 items after the cursor, so Cut can tell whether there
// is a next page, and the unread count.
func (f *Function) page(ctx context.Context, user string, p page.Params) ([]notification.Item, int, error) {
	q := `SELECT ` + notification.Columns("") + ` FROM notifications WHERE recipient_id = $1`
	args := []any{user, p.Limit + 1}
	if p.After != nil {
		q += ` AND (created_at, id) < ($3, $4::uuid)`
		args = append(args, p.After.CreatedAt, p.After.ID)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT $2`
	rows, err := f.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	items, err := pgx.CollectRows(rows, notification.RowTo)
	if err != nil {
		return nil, 0, err
	}
	var unread int
	err = f.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL`, user).Scan(&unread)
	return items, unread, err
}

// readRequest is one of two forms: {"ids":[...]} or {"all":true}.
type readRequest struct {
	IDs []string `json:"ids"`
	All *bool    `json:"all"`
}

func (req readRequest) validate() []problem.FieldError {
	hasIDs, hasAll := req.IDs != nil, req.All != nil
	switch {
	case hasIDs && hasAll:
		return []problem.FieldError{{Field: "ids", Detail: "send either ids or all, not both"}, {Field: "all", Detail: "send either ids or all, not both"}}
	case !hasIDs && !hasAll:
		return []problem.FieldError{{Field: "ids", Detail: "send the ids to mark read, or all: true"}}
	case hasAll && !*req.All:
		return []problem.FieldError{{Field: "all", Detail: "must be true"}}
	case hasIDs && (len(req.IDs) == 0 || len(req.IDs) > MaxReadIDs):
		return []problem.FieldError{{Field: "ids", Detail: fmt.Sprintf("must list 1 to %d notification ids", MaxReadIDs)}}
	}
	for i, id := range req.IDs {
		if _, err := uuid.Parse(id); err != nil {
			return []problem.FieldError{{Field: "ids", Detail: fmt.Sprintf("ids[%d] is not a notification id", i)}}
		}
	}
	return nil
}

// markRead marks the caller's notifications read; ids of other people's
// notifications match nothing, so they change nothing.
func (f *Function) markRead(w http.ResponseWriter, r *http.Request) {
	var req readRequest
	if !jsonbody.Decode(w, r, &req, 16<<10) {
		return
	}
	if errs := req.validate(); len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}
	ctx, user := r.Context(), session.UserID(r.Context())
	var (
		tag pgconn.CommandTag
		err error
	)
	if req.All != nil {
		tag, err = f.pool.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE recipient_id = $1 AND read_at IS NULL`, user)
	} else {
		tag, err = f.pool.Exec(ctx, `UPDATE notifications SET read_at = now() WHERE recipient_id = $1 AND id = ANY($2::uuid[]) AND read_at IS NULL`, user, req.IDs)
	}
	if err != nil {
		f.log.ErrorContext(ctx, "mark notifications read", "user", user, "err", err)
		problem.Internal(w)
		return
	}
	// The user's other tabs and devices hear of it on their live stream and
	// read their count again. Best effort: the rows are already right.
	if tag.RowsAffected() > 0 {
		if err := notification.Publish(ctx, f.rdb, user, notification.Changed{Changed: notification.ChangedRead}); err != nil {
			f.log.WarnContext(ctx, "tell other clients of the read", "user", user, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
