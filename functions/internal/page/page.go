// Package page reads and writes the keyset-paging parameters every list
// endpoint shares: an opaque cursor naming the last item seen (its
// created_at and id, the list's sort key, newest first) and a limit.
package page

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/functions/problem"
)

// Limits on the page size.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Cursor is the sort key of the last item of a page; the next page starts
// strictly after it in (created_at DESC, id DESC) order.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Params are a list request's paging parameters.
type Params struct {
	Limit int
	// After is nil for the first page.
	After *Cursor
}

// ErrMalformed means a cursor string is not one this package wrote.
var ErrMalformed = errors.New("page: malformed cursor")

// Encode returns the opaque cursor for an item: base64url of
// "<RFC3339Nano created_at>|<id>".
func Encode(createdAt time.Time, id string) string {
	raw := createdAt.UTC().Format(time.RFC3339Nano) + "|" + id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Decode parses a cursor written by Encode. The id must be a UUID, so a
// cursor can go straight into a query on a uuid column.
func Decode(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return Cursor{}, ErrMalformed
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return Cursor{}, ErrMalformed
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Cursor{}, ErrMalformed
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != strings.ToLower(id) {
		return Cursor{}, ErrMalformed
	}
	return Cursor{CreatedAt: t, ID: u.String()}, nil
}

// Parse reads "cursor" and "limit" from a query string. It returns every
// invalid one as a field error naming it.
func Parse(q url.Values) (Params, []problem.FieldError) {
	p := Params{Limit: DefaultLimit}
	var errs []problem.FieldError
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > MaxLimit {
			errs = append(errs, problem.FieldError{Field: "limit", Detail: "must be a whole number from 1 to 100"})
		} else {
			p.Limit = n
		}
	}
	if s := q.Get("cursor"); s != "" {
		c, err := Decode(s)
		if err != nil {
			errs = append(errs, problem.FieldError{Field: "cursor", Detail: "is not a cursor this list returned"})
		} else {
			p.After = &c
		}
	}
	return p, errs
}

// Cut trims a result fetched with Limit+1 rows to one page and returns the
// cursor of the next page, or nil when this is the last one. key gives an
// item's sort key.
func Cut[T any](items []T, limit int, key func(T) (time.Time, string)) ([]T, *string) {
	if len(items) <= limit {
		return items, nil
	}
	items = items[:limit]
	next := Encode(key(items[limit-1]))
	return items, &next
}
