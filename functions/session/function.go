package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/internal/ratelimit"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// Name is the function's Knative Service.
const Name = "session"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true}

// Function serves POST /api/login, POST /api/logout and GET /api/me.
type Function struct {
	http.Handler
	pool     *pgxpool.Pool
	sessions *session.Store
	// logins counts login attempts per account, each before it is
	// checked; a success hands its attempt back.
	logins *ratelimit.Limiter
	log    *slog.Logger
}

// dummyHash is verified against when the email is unknown, so an unknown
// email takes as long as a wrong password and the two look the same. It is a
// constant (of a throwaway password, at the current parameters) so a cold
// start does not pay for hashing it.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$Pj77/s0nPFvTfW/A1Augdw$W2zMRF+FaCv1GVL+ZcEjVEg9G/Y7bw+MtXSccimxemk"

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	f := &Function{
		pool: a.Pool, sessions: a.Sessions, log: a.Log,
		logins: ratelimit.New(a.Redis, a.Log, "login", 5, 15*time.Minute),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", f.login)
	mux.HandleFunc("POST /api/logout", f.logout)
	mux.Handle("GET /api/me", a.Sessions.Require(a.Log, http.HandlerFunc(f.me)))
	f.Handler = a.PublicAPI(mux)
	return f, nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

const badCredentials = "Invalid email or password."

func (f *Function) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !jsonbody.Decode(w, r, &req, 16<<10) {
		return
	}
	var missing []problem.FieldError
	if strings.TrimSpace(req.Email) == "" {
		missing = append(missing, problem.FieldError{Field: "email", Detail: "is required"})
	}
	if req.Password == "" {
		missing = append(missing, problem.FieldError{Field: "password", Detail: "is required"})
	}
	if len(missing) > 0 {
		problem.Invalid(w, missing...)
		return
	}
	email := strings.TrimSpace(req.Email)
	if strings.IndexFunc(email, unicode.IsControl) >= 0 {
		problem.Invalid(w, problem.FieldError{Field: "email", Detail: "must not contain control characters"})
		return
	}
	// Longer than any address or password signup accepts: no such account.
	if len(email) > 254 || password.Check(req.Password) == password.ErrTooLong {
		problem.Unauthorized(w, badCredentials)
		return
	}
	ctx := r.Context()
	// The attempt is counted before the password is checked, so parallel
	// guesses cannot all be checked before the first failure is counted.
	account := strings.ToLower(email)
	wait, err := f.logins.Take(ctx, account)
	if err != nil {
		f.unavailable(w, r, "rate limiter", err)
		return
	}
	if wait > 0 {
		problem.TooMany(w, wait, "Too many failed logins for this account. Try again later.")
		return
	}
	var u session.User
	var hash string
	err = f.pool.QueryRow(ctx, `SELECT id::text, email, name, password_hash FROM users WHERE email_lower = lower($1)`,
		email).Scan(&u.ID, &u.Email, &u.Name, &hash)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		f.unavailable(w, r, "user lookup", err)
		return
	}
	if !found {
		hash = dummyHash
	}
	ok, err := password.Verify(hash, req.Password)
	if err != nil {
		f.log.ErrorContext(ctx, "stored password hash unreadable", "user", u.ID, "err", err)
	}
	if !found || !ok {
		problem.Unauthorized(w, badCredentials)
		return
	}
	// The right password hands its own attempt back; the failures stay
	// counted for the window. Wiping them on success would give a guesser
	// working beside the owner a fresh allowance at every one of the
	// owner's logins.
	if err := f.logins.Give(ctx, account); err != nil {
		f.log.WarnContext(ctx, "rate limiter", "err", err)
	}
	// A new token on every login: an old (perhaps planted) one dies here.
	if err := f.sessions.Delete(ctx, session.Token(r)); err != nil {
		f.log.WarnContext(ctx, "old session not deleted", "err", err)
	}
	token, err := f.sessions.Create(ctx, u.ID)
	if err != nil {
		f.unavailable(w, r, "session create", err)
		return
	}
	f.sessions.SetCookie(w, token)
	jsonbody.Write(w, http.StatusOK, u)
}

// logout ends this session, or with ?all=1 every session of the account
// ("log out everywhere", after a lost device). It is a query flag on the one
// route so the HTTPRoute's Exact match on /api/logout still covers it.
func (f *Function) logout(w http.ResponseWriter, r *http.Request) {
	var all bool
	switch v := r.URL.Query().Get("all"); v {
	case "", "0", "false":
	case "1", "true":
		all = true
	default:
		problem.Invalid(w, problem.FieldError{Field: "all", Detail: "must be 1 or 0"})
		return
	}
	ctx, token := r.Context(), session.Token(r)
	if all {
		sess, err := f.sessions.Get(ctx, token)
		switch {
		case errors.Is(err, session.ErrNoSession):
			// Nothing to end: logged out already.
		case err != nil:
			f.unavailable(w, r, "session lookup", err)
			return
		default:
			if _, err := f.sessions.DeleteAll(ctx, sess.UserID); err != nil {
				f.unavailable(w, r, "session delete all", err)
				return
			}
		}
	}
	if err := f.sessions.Delete(ctx, token); err != nil {
		f.unavailable(w, r, "session delete", err)
		return
	}
	f.sessions.ClearCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Function) me(w http.ResponseWriter, r *http.Request) {
	var u session.User
	err := f.pool.QueryRow(r.Context(), `SELECT id::text, email, name FROM users WHERE id = $1`, session.UserID(r.Context())).
		Scan(&u.ID, &u.Email, &u.Name)
	if errors.Is(err, pgx.ErrNoRows) {
		problem.Unauthorized(w, "Your account no longer exists.")
		return
	}
	if err != nil {
		f.unavailable(w, r, "user lookup", err)
		return
	}
	jsonbody.Write(w, http.StatusOK, u)
}

func (f *Function) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	f.log.ErrorContext(r.Context(), what, "err", err)
	problem.Unavailable(w, "Please try again in a moment.")
}
