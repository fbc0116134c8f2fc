package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/ids"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// friendRequest is a request as the API shows it.
type friendRequest struct {
	ID     string `json:"id"`
	From   person `json:"from"`
	To     person `json:"to"`
	Status string `json:"status"`
}

// Every change to the friendship state of two people (sending, accepting,
// unfriending) first locks both users' rows, lower id first. That
// serialises the changes of one pair, so two people requesting each other
// at once become friends exactly once, and the fixed order means two
// transactions never wait on each other in a cycle. FOR NO KEY UPDATE does
// not block the key-share locks that foreign-key checks take, so posting
// and uploading are never held up by it.
func lockPair(ctx context.Context, tx pgx.Tx, a, b string) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT id::text, name FROM users WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, []string{a, b})
	if err != nil {
		return nil, fmt.Errorf("lock users: %w", err)
	}
	names := map[string]string{}
	var id, name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		names[id] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock users: %w", err)
	}
	return names, nil
}

func areFriends(ctx context.Context, tx pgx.Tx, a, b string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2)`, a, b).Scan(&ok)
	return ok, err
}

var errDuplicate = &refusal{status: http.StatusConflict, field: "userId", detail: "already has a pending request from you"}

func (f *Function) sendRequest(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserID string `json:"userId"`
	}
	if !jsonbody.Decode(w, r, &body, 4<<10) {
		return
	}
	ctx := r.Context()
	me := session.UserID(ctx)
	raw := strings.TrimSpace(body.UserID)
	if raw == "" {
		(&refusal{status: http.StatusBadRequest, field: "userId", detail: "is required"}).write(w)
		return
	}
	other, ok := ids.Parse(raw)
	if !ok {
		notFound("No such user.").write(w)
		return
	}
	if other == me {
		(&refusal{status: http.StatusBadRequest, field: "userId", detail: "cannot be yourself"}).write(w)
		return
	}
	if !f.requests.Allow(w, r, me, "You have sent too many friend requests. Try again later.") {
		return
	}
	var out friendRequest
	err := f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		var err error
		out, err = f.send(ctx, tx, me, other)
		return err
	})
	// The pair lock makes this unreachable; if it ever happens the guard
	// index did its job and the answer is the same as for a duplicate.
	if pg.IsUniqueViolation(err, "friend_requests_one_pending") {
		err = errDuplicate
	}
	if err != nil {
		f.finish(w, r, "send friend request", err)
		return
	}
	// 201 either way, as the API promises; status says which it was.
	jsonbody.Write(w, http.StatusCreated, out)
}

// send makes me's request to other, or accepts other's pending request to me.
func (f *Function) send(ctx context.Context, tx *outbox.Tx, me, other string) (friendRequest, error) {
	names, err := lockPair(ctx, tx, me, other)
	if err != nil {
		return friendRequest{}, err
	}
	if _, ok := names[other]; !ok {
		return friendRequest{}, notFound("No such user.")
	}
	if _, ok := names[me]; !ok {
		return friendRequest{}, notFound("Your account no longer exists.")
	}
	friends, err := areFriends(ctx, tx, me, other)
	if err != nil {
		return friendRequest{}, err
	}
	if friends {
		return friendRequest{}, &refusal{status: http.StatusConflict, field: "userId", detail: "is already your friend"}
	}
	var pendingID, pendingFrom string
	err = tx.QueryRow(ctx, `SELECT id::text, from_user::text FROM friend_requests
		WHERE status = 'pending' AND ((from_user = $1 AND to_user = $2) OR (from_user = $2 AND to_user = $1))
		FOR UPDATE`, me, other).Scan(&pendingID, &pendingFrom)
	switch {
	case err == nil && pendingFrom == me:
		return friendRequest{}, errDuplicate
	case err == nil:
		// They asked first: asking back is saying yes.
		if err := f.acceptLocked(ctx, tx, pendingID, other, me, names[me]); err != nil {
			return friendRequest{}, err
		}
		return friendRequest{ID: pendingID, From: person{other, names[other]}, To: person{me, names[me]}, Status: "accepted"}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return friendRequest{}, fmt.Errorf("find pending request: %w", err)
	}
	if err := f.coolingDown(ctx, tx, me, other); err != nil {
		return friendRequest{}, err
	}
	var id string
	var at time.Time
	err = tx.QueryRow(ctx, `INSERT INTO friend_requests (from_user, to_user, status) VALUES ($1, $2, 'pending') RETURNING id::text, created_at`,
		me, other).Scan(&id, &at)
	if err != nil {
		return friendRequest{}, err
	}
	e, err := events.New(source, events.TypeFriendRequested, id, other, events.FriendRequested{
		RequestID: id, FromUserID: me, FromName: names[me], ToUserID: other, RequestedAt: at.UTC(),
	})
	if err != nil {
		return friendRequest{}, err
	}
	if err := tx.Emit(ctx, e); err != nil {
		return friendRequest{}, err
	}
	return friendRequest{ID: id, From: person{me, names[me]}, To: person{other, names[other]}, Status: "pending"}, nil
}

// coolingDown refuses a new request from me to other while an earlier one
// was cancelled or declined less than the cool-down ago: request and cancel
// in a loop would otherwise notify the other person at every turn. It only
// binds this direction, so the one who declined may still ask.
func (f *Function) coolingDown(ctx context.Context, tx pgx.Tx, me, other string) error {
	var left *float64
	err := tx.QueryRow(ctx, `SELECT extract(epoch FROM max(updated_at) + make_interval(secs => $3) - now())::float8
		FROM friend_requests
		WHERE from_user = $1 AND to_user = $2 AND status IN ('cancelled', 'declined')
		AND updated_at > now() - make_interval(secs => $3)`, me, other, f.cooldown.Seconds()).Scan(&left)
	if err != nil {
		return fmt.Errorf("cool-down: %w", err)
	}
	if left == nil || *left <= 0 {
		return nil
	}
	return &refusal{status: http.StatusTooManyRequests, field: "userId", retry: time.Duration(*left * float64(time.Second)),
		detail: "You asked this person recently. Try again later."}
}

// acceptLocked turns a pending request into a friendship (both rows) and
// tells the requester. The caller holds the pair lock.
func (f *Function) acceptLocked(ctx context.Context, tx *outbox.Tx, requestID, requester, accepter, accepterName string) error {
	var at time.Time
	err := tx.QueryRow(ctx, `UPDATE friend_requests SET status = 'accepted', updated_at = now()
		WHERE id = $1 AND status = 'pending' RETURNING updated_at`, requestID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("No such pending request.")
	}
	if err != nil {
		return fmt.Errorf("accept request: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO friendships (user_id, friend_id) VALUES ($1, $2), ($2, $1) ON CONFLICT DO NOTHING`, requester, accepter); err != nil {
		return fmt.Errorf("create friendship: %w", err)
	}
	e, err := events.New(source, events.TypeFriendAccepted, requestID, requester, events.FriendAccepted{
		RequestID: requestID, RequesterID: requester, AccepterID: accepter, AccepterName: accepterName, AcceptedAt: at.UTC(),
	})
	if err != nil {
		return err
	}
	return tx.Emit(ctx, e)
}

func (f *Function) accept(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := session.UserID(ctx)
	id, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		notFound("No such pending request.").write(w)
		return
	}
	var out friendRequest
	err := f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		var from string
		err := tx.QueryRow(ctx, `SELECT from_user::text FROM friend_requests WHERE id = $1 AND to_user = $2 AND status = 'pending'`, id, me).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("No such pending request.")
		}
		if err != nil {
			return err
		}
		names, err := lockPair(ctx, tx, from, me)
		if err != nil {
			return err
		}
		// acceptLocked re-checks the status under the lock: a cancel that
		// won the race makes this a 404.
		if err := f.acceptLocked(ctx, tx, id, from, me, names[me]); err != nil {
			return err
		}
		out = friendRequest{ID: id, From: person{from, names[from]}, To: person{me, names[me]}, Status: "accepted"}
		return nil
	})
	if err != nil {
		f.finish(w, r, "accept friend request", err)
		return
	}
	jsonbody.Write(w, http.StatusOK, out)
}

// decline and cancel end a pending request without a friendship. One
// conditional UPDATE is enough: the row lock it takes orders it against an
// accept of the same request. A cancel also tells the recipient's side
// (friend.cancelled), so the notification of a request that is gone goes
// too; a decline needs no event, the recipient made it.
func (f *Function) decline(w http.ResponseWriter, r *http.Request) {
	f.closeRequest(w, r, "declined", "to_user")
}

func (f *Function) cancel(w http.ResponseWriter, r *http.Request) {
	f.closeRequest(w, r, "cancelled", "from_user")
}

// closeRequest sets a pending request that the user is party to as side (to_user
// may decline, from_user may cancel) to status. Anyone else gets 404.
func (f *Function) closeRequest(w http.ResponseWriter, r *http.Request, status, side string) {
	ctx := r.Context()
	id, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		notFound("No such pending request.").write(w)
		return
	}
	err := f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		var from, to string
		var at time.Time
		err := tx.QueryRow(ctx, `UPDATE friend_requests SET status = $1, updated_at = now()
			WHERE id = $2 AND `+side+` = $3 AND status = 'pending'
			RETURNING from_user::text, to_user::text, updated_at`, status, id, session.UserID(ctx)).Scan(&from, &to, &at)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("No such pending request.")
		}
		if err != nil || status != "cancelled" {
			return err
		}
		e, err := events.New(source, events.TypeFriendCancelled, id, to, events.FriendCancelled{
			RequestID: id, FromUserID: from, ToUserID: to, CancelledAt: at.UTC(),
		})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, e)
	})
	if err != nil {
		f.finish(w, r, "close friend request", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxListedRequests bounds each list of pending requests.
const maxListedRequests = 500

func (f *Function) listRequests(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := session.UserID(ctx)
	rows, err := f.pool.Query(ctx, `
		SELECT r.id::text, r.from_user::text, fu.name, r.to_user::text, tu.name, r.status
		FROM friend_requests r
		JOIN users fu ON fu.id = r.from_user
		JOIN users tu ON tu.id = r.to_user
		WHERE r.status = 'pending' AND (r.to_user = $1 OR r.from_user = $1)
		ORDER BY r.created_at DESC, r.id DESC
		LIMIT $2`, me, 2*maxListedRequests)
	if err != nil {
		f.finish(w, r, "list friend requests", err)
		return
	}
	all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (friendRequest, error) {
		var f friendRequest
		return f, row.Scan(&f.ID, &f.From.ID, &f.From.Name, &f.To.ID, &f.To.Name, &f.Status)
	})
	if err != nil {
		f.finish(w, r, "list friend requests", err)
		return
	}
	incoming, outgoing := []friendRequest{}, []friendRequest{}
	for _, f := range all {
		if f.To.ID == me && len(incoming) < maxListedRequests {
			incoming = append(incoming, f)
		} else if f.From.ID == me && len(outgoing) < maxListedRequests {
			outgoing = append(outgoing, f)
		}
	}
	jsonbody.Write(w, http.StatusOK, map[string]any{"incoming": incoming, "outgoing": outgoing})
}
