package main

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/problem"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// Search limits.
const (
	maxQueryLen   = 80
	maxSearchHits = 20
)

type searchHit struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Relation string `json:"relation"` // none, outgoing, incoming or friends
}

// searchSQL finds users whose lower-cased name or email starts with $2 (a
// LIKE pattern), except the searcher $1. Both prefixes are served by
// text_pattern_ops indexes.
const searchSQL = `
SELECT u.id::text, u.name,
	CASE
		WHEN EXISTS (SELECT 1 FROM friendships f WHERE f.user_id = $1 AND f.friend_id = u.id) THEN 'friends'
		WHEN EXISTS (SELECT 1 FROM friend_requests r WHERE r.status = 'pending' AND r.from_user = $1 AND r.to_user = u.id) THEN 'outgoing'
		WHEN EXISTS (SELECT 1 FROM friend_requests r WHERE r.status = 'pending' AND r.from_user = u.id AND r.to_user = $1) THEN 'incoming'
		ELSE 'none'
	END
FROM users u
WHERE u.id <> $1 AND (lower(u.name) LIKE $2 OR u.email_lower LIKE $2)
ORDER BY lower(u.name), u.id
LIMIT $3`

func (f *Function) search(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	switch n := utf8.RuneCountInString(q); {
	case !utf8.ValidString(q) || strings.IndexFunc(q, unicode.IsControl) >= 0:
		problem.Invalid(w, problem.FieldError{Field: "q", Detail: "must be plain text"})
		return
	case n == 0:
		problem.Invalid(w, problem.FieldError{Field: "q", Detail: "is required"})
		return
	case n > maxQueryLen:
		problem.Invalid(w, problem.FieldError{Field: "q", Detail: "must be at most 80 characters"})
		return
	}
	ctx := r.Context()
	rows, err := f.pool.Query(ctx, searchSQL, session.UserID(ctx), prefixPattern(q), maxSearchHits)
	if err != nil {
		f.finish(w, r, "search users", err)
		return
	}
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (searchHit, error) {
		var s searchHit
		return s, row.Scan(&s.ID, &s.Name, &s.Relation)
	})
	if err != nil {
		f.finish(w, r, "search users", err)
		return
	}
	if hits == nil {
		hits = []searchHit{}
	}
	jsonbody.Write(w, http.StatusOK, map[string]any{"users": hits})
}

// prefixPattern is a LIKE pattern matching strings that start with q,
// case-insensitively: q's own %, _ and \ match only themselves.
func prefixPattern(q string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(q) {
		if c == '%' || c == '_' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	b.WriteByte('%')
	return b.String()
}
