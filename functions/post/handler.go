package main

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/ids"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/page"
	"github.com/tidings-dev/tidings/functions/internal/people"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/post/feed"
	"github.com/tidings-dev/tidings/functions/problem"
)

// maxTextLen bounds a post, in characters.
const maxTextLen = 5000

// createRequest is a post: text, a picture, or both, but not neither.
type createRequest struct {
	// Text is optional when the post has a picture.
	Text string `json:"text"`
	// FileID is optional; null is the same as absent.
	FileID *string `json:"fileId"`
}

// errNotYourFile rolls back a post whose picture is not the author's.
var errNotYourFile = errors.New("fileId is not the author's picture")

func (f *Function) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	// 5000 characters, each at most a 6-byte \u escape, and some framing.
	if !jsonbody.Decode(w, r, &req, 6*maxTextLen+1024) {
		return
	}
	text := strings.TrimSpace(req.Text)
	var errs []problem.FieldError
	switch n := utf8.RuneCountInString(text); {
	case n == 0 && req.FileID == nil:
		errs = append(errs, problem.FieldError{Field: "text", Detail: "is required without a picture"})
	case n > maxTextLen:
		errs = append(errs, problem.FieldError{Field: "text", Detail: "must be at most 5000 characters"})
	case strings.IndexFunc(text, badControl) >= 0:
		errs = append(errs, problem.FieldError{Field: "text", Detail: "must not contain control characters"})
	}
	var fileID string
	if req.FileID != nil {
		var ok bool
		if fileID, ok = ids.Parse(*req.FileID); !ok {
			errs = append(errs, notYourFile)
		}
	}
	if len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}

	ctx := r.Context()
	me := session.UserID(ctx)
	post := feed.Post{Author: feed.Person{ID: me}, Text: text}
	err := f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		var file *string
		if fileID != "" {
			var mine bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM files WHERE id = $1 AND owner_id = $2)`, fileID, me).Scan(&mine); err != nil {
				return err
			}
			if !mine {
				return errNotYourFile
			}
			file = &fileID
			post.Image = &feed.Image{Src: feed.ImageSrc(fileID)}
		}
		err := tx.QueryRow(ctx, `INSERT INTO posts (author_id, text, file_id) VALUES ($1, $2, $3)
			RETURNING id::text, created_at, (SELECT name FROM users WHERE id = $1)`, me, text, file).
			Scan(&post.ID, &post.CreatedAt, &post.Author.Name)
		if err != nil {
			return err
		}
		post.CreatedAt = post.CreatedAt.UTC()
		e, err := events.New(source, events.TypePostCreated, post.ID, me, events.PostCreated{
			PostID: post.ID, AuthorID: me, AuthorName: post.Author.Name, HasImage: file != nil, CreatedAt: post.CreatedAt,
		})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, e)
	})
	switch {
	case errors.Is(err, errNotYourFile):
		problem.Invalid(w, notYourFile)
		return
	case err != nil:
		f.fail(w, r, "create post", err)
		return
	}
	jsonbody.Write(w, http.StatusCreated, post)
}

var notYourFile = problem.FieldError{Field: "fileId", Detail: "must be the id of a picture you uploaded"}

// badControl rejects control characters other than line breaks and tabs.
func badControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

type pageResponse struct {
	Posts      []feed.Post `json:"posts"`
	NextCursor *string     `json:"nextCursor"`
}

// authorPageResponse is one person's posts, with who they are: the API has
// no other route that names someone else, and the profile page needs it.
type authorPageResponse struct {
	User feed.Person `json:"user"`
	pageResponse
}

func (f *Function) feed(w http.ResponseWriter, r *http.Request) {
	p, errs := page.Parse(r.URL.Query())
	if len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}
	ctx := r.Context()
	posts, next, err := feed.Feed(ctx, f.pool, session.UserID(ctx), p)
	if err != nil {
		f.fail(w, r, "read feed", err)
		return
	}
	jsonbody.Write(w, http.StatusOK, pageResponse{Posts: posts, NextCursor: next})
}

// byAuthor lists one person's posts and names them, for themselves or a
// friend. Anyone else gets the same 404 as for an unknown id, so it does not
// reveal who exists.
func (f *Function) byAuthor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	author, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		problem.NotFound(w, "No such person among your friends.")
		return
	}
	p, errs := page.Parse(r.URL.Query())
	if len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}
	person, ok, err := feed.Visible(ctx, f.pool, session.UserID(ctx), author)
	if err != nil {
		f.fail(w, r, "look up author", err)
		return
	}
	if !ok {
		problem.NotFound(w, "No such person among your friends.")
		return
	}
	posts, next, err := feed.ByAuthor(ctx, f.pool, author, p)
	if err != nil {
		f.fail(w, r, "read posts", err)
		return
	}
	jsonbody.Write(w, http.StatusOK, authorPageResponse{User: person, pageResponse: pageResponse{Posts: posts, NextCursor: next}})
}

// one shows a single post to its author and the author's friends, the
// people whose feed holds it. Anyone else gets the same 404 as for an
// unknown or malformed id.
func (f *Function) one(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		problem.NotFound(w, "No such post among your friends'.")
		return
	}
	post, ok, err := feed.One(ctx, f.pool, session.UserID(ctx), id)
	if err != nil {
		f.fail(w, r, "read post", err)
		return
	}
	if !ok {
		problem.NotFound(w, "No such post among your friends'.")
		return
	}
	jsonbody.Write(w, http.StatusOK, post)
}

// person is the card anyone signed in may see of anyone: name, how they
// stand to the viewer, friends in common, when they joined. It is what
// search already shows, so it reveals nothing more; posts stay behind
// byAuthor. An unknown or malformed id is 404.
func (f *Function) person(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := ids.Parse(r.PathValue("id"))
	if !ok {
		problem.NotFound(w, "No such person.")
		return
	}
	rows, err := f.pool.Query(ctx, people.Select+` WHERE u.id = $2`, session.UserID(ctx), id)
	if err != nil {
		f.fail(w, r, "read person", err)
		return
	}
	card, err := pgx.CollectExactlyOneRow(rows, people.Scan)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		problem.NotFound(w, "No such person.")
	case err != nil:
		f.fail(w, r, "read person", err)
	default:
		jsonbody.Write(w, http.StatusOK, card)
	}
}

func (f *Function) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	f.log.ErrorContext(r.Context(), what, "err", err)
	problem.Internal(w)
}
