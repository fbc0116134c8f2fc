package main

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/people"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// Search limits.
const (
	maxQueryLen   = 80
	maxQueryWords = 8
	maxSearchHits = 20
)

// searchByNameSQL finds users, except the searcher $1, whose name has a word
// starting with each word of the query: $2 is a tsquery of prefixes
// (wordsQuery), read from the users_name_words index.
const searchByNameSQL = people.Select + `
WHERE u.id <> $1 AND to_tsvector('simple', u.name) @@ to_tsquery('simple', $2)
ORDER BY lower(u.name), u.id
LIMIT $3`

// searchByEmailSQL finds the user with exactly the address $2, whatever
// its case: someone who knows a whole address may find its owner; no
// part of an address finds anyone.
const searchByEmailSQL = people.Select + `
WHERE u.id <> $1 AND u.email_lower = lower($2)`

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
	me := session.UserID(ctx)
	// Per account, not per session: an account's sessions share one
	// allowance, so logging in again buys no more searches.
	if !f.searches.Allow(w, r, me, "Too many searches. Try again in a minute.") {
		return
	}
	var rows pgx.Rows
	var err error
	if strings.Contains(q, "@") {
		rows, err = f.pool.Query(ctx, searchByEmailSQL, me, q)
	} else if words := wordsQuery(q); words != "" {
		rows, err = f.pool.Query(ctx, searchByNameSQL, me, words, maxSearchHits)
	} else {
		jsonbody.Write(w, http.StatusOK, map[string]any{"users": []people.Card{}})
		return
	}
	if err != nil {
		f.finish(w, r, "search users", err)
		return
	}
	hits, err := pgx.CollectRows(rows, people.Scan)
	if err != nil {
		f.finish(w, r, "search users", err)
		return
	}
	if hits == nil {
		hits = []people.Card{}
	}
	jsonbody.Write(w, http.StatusOK, map[string]any{"users": hits})
}

// wordsQuery turns a query into a tsquery that every word must match as a
// prefix: "ann arch" is 'ann':* & 'arch':*. Words are split where the
// 'simple' parser splits a name (at anything but letters and digits), so
// each quoted lexeme holds only letters and digits and the query cannot
// carry tsquery syntax. "" when q has no words.
func wordsQuery(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.IsMark(c) })
	if len(words) > maxQueryWords {
		words = words[:maxQueryWords]
	}
	for i, w := range words {
		words[i] = "'" + w + "':*"
	}
	return strings.Join(words, " & ")
}
