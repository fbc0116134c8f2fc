// Package feed reads posts newest first with keyset paging: a person's feed
// (their own posts and their friends') and one author's posts. The post
// function's handlers and the feed benchmark call the same functions.
package feed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidings-dev/tidings/functions/internal/page"
)

// Person is how the API shows a post's author.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Image is a post's picture.
type Image struct {
	Src string `json:"src"`
}

// Post is a post as the API shows it.
type Post struct {
	ID        string    `json:"id"`
	Author    Person    `json:"author"`
	Text      string    `json:"text"`
	Image     *Image    `json:"image,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// ImageSrc is where the upload function serves a picture.
func ImageSrc(fileID string) string { return "/api/files/" + fileID }

// DB is what the queries need: a pool, a connection or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// after is the keyset condition on table alias t for the page after a
// cursor ($3, $4).
func after(t string) string { return ` AND (` + t + `.created_at, ` + t + `.id) < ($3, $4)` }

// FeedSQL is the feed query; cursor says whether it takes $3, $4. For each
// author (the viewer $1 and every friend) it reads at most one page from
// that author's slice of posts_author_created, already in order, then merges
// them: the work is bounded by friends × page size, however many posts
// there are in total. Author names are looked up by key for the final page
// only; a join lets the planner hash the whole users table.
func FeedSQL(cursor bool) string {
	cond := ""
	if cursor {
		cond = after("ap")
	}
	return `
SELECT f.id::text, f.author_id::text, (SELECT u.name FROM users u WHERE u.id = f.author_id), f.text, f.file_id::text, f.created_at
FROM (
	SELECT p.id, p.author_id, p.text, p.file_id, p.created_at
	FROM (SELECT $1::uuid AS author_id UNION ALL SELECT friend_id FROM friendships WHERE user_id = $1) a
	CROSS JOIN LATERAL (
		SELECT ap.id, ap.author_id, ap.text, ap.file_id, ap.created_at FROM posts ap
		WHERE ap.author_id = a.author_id` + cond + `
		ORDER BY ap.created_at DESC, ap.id DESC
		LIMIT $2
	) p
	ORDER BY p.created_at DESC, p.id DESC
	LIMIT $2
) f
ORDER BY f.created_at DESC, f.id DESC`
}

// AuthorSQL is one author's posts ($1), one range of posts_author_created.
func AuthorSQL(cursor bool) string {
	cond := ""
	if cursor {
		cond = after("p")
	}
	return `
SELECT p.id::text, p.author_id::text, u.name, p.text, p.file_id::text, p.created_at
FROM posts p JOIN users u ON u.id = p.author_id
WHERE p.author_id = $1` + cond + `
ORDER BY p.created_at DESC, p.id DESC
LIMIT $2`
}

// Args returns the arguments of FeedSQL or AuthorSQL for user and p: one
// row more than the page, to learn whether another page follows.
func Args(user string, p page.Params) []any {
	args := []any{user, p.Limit + 1}
	if p.After != nil {
		args = append(args, p.After.CreatedAt, p.After.ID)
	}
	return args
}

// Feed returns viewer's feed page and the next page's cursor (nil at the end).
func Feed(ctx context.Context, db DB, viewer string, p page.Params) ([]Post, *string, error) {
	return list(ctx, db, FeedSQL(p.After != nil), Args(viewer, p), p.Limit)
}

// ByAuthor returns one page of author's posts. It does not check who may
// see them; see Visible.
func ByAuthor(ctx context.Context, db DB, author string, p page.Params) ([]Post, *string, error) {
	return list(ctx, db, AuthorSQL(p.After != nil), Args(author, p), p.Limit)
}

// Visible returns author as viewer may see them: only when they are the
// same person or friends. For anyone else, and for an unknown id, ok is
// false, so callers cannot tell the two apart.
func Visible(ctx context.Context, db DB, viewer, author string) (person Person, ok bool, err error) {
	err = db.QueryRow(ctx, `SELECT u.id::text, u.name FROM users u
		WHERE u.id = $2 AND (u.id = $1 OR EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = $2))`,
		viewer, author).Scan(&person.ID, &person.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		return Person{}, false, nil
	}
	if err != nil {
		return Person{}, false, fmt.Errorf("look up author: %w", err)
	}
	return person, true, nil
}

// One returns post id as viewer may see it: their own, or a friend's. For
// anyone else's post, and for an unknown id, ok is false.
func One(ctx context.Context, db DB, viewer, id string) (post Post, ok bool, err error) {
	rows, err := db.Query(ctx, `SELECT p.id::text, p.author_id::text, u.name, p.text, p.file_id::text, p.created_at
		FROM posts p JOIN users u ON u.id = p.author_id
		WHERE p.id = $2 AND (p.author_id = $1 OR EXISTS (SELECT 1 FROM friendships WHERE user_id = $1 AND friend_id = p.author_id))`,
		viewer, id)
	if err != nil {
		return Post{}, false, fmt.Errorf("read post: %w", err)
	}
	post, err = pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return Post{}, false, nil
	}
	if err != nil {
		return Post{}, false, fmt.Errorf("read post: %w", err)
	}
	return post, true, nil
}

func list(ctx context.Context, db DB, sql string, args []any, limit int) ([]Post, *string, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read posts: %w", err)
	}
	posts, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, nil, fmt.Errorf("read posts: %w", err)
	}
	if posts == nil {
		posts = []Post{}
	}
	posts, next := page.Cut(posts, limit, func(p Post) (time.Time, string) { return p.CreatedAt, p.ID })
	return posts, next, nil
}

func scan(row pgx.CollectableRow) (Post, error) {
	var p Post
	var fileID *string
	if err := row.Scan(&p.ID, &p.Author.ID, &p.Author.Name, &p.Text, &fileID, &p.CreatedAt); err != nil {
		return p, err
	}
	if fileID != nil {
		p.Image = &Image{Src: ImageSrc(*fileID)}
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}
