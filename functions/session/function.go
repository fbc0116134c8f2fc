package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/internal/problem"
	"github.com/tidings-dev/tidings/functions/internal/session"
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
	limiter  *failureLimiter
	log      *slog.Logger
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
		limiter: &failureLimiter{rdb: a.Redis, max: 5, window: 15 * time.Minute},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", f.login)
	mux.HandleFunc("POST /api/logout", f.logout)
	mux.Handle("GET /api/me", a.Sessions.Require(a.Log, http.HandlerFunc(f.me)))
	f.Handler = a.PublicAPI(mux)
	return f, nil
}

type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
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
	if len(req.Email) > 254 || len(req.Password) > 128 {
		problem.Unauthorized(w, badCredentials)
		return
	}
	ctx := r.Context()
	wait, err := f.limiter.blocked(ctx, req.Email)
	if err != nil {
		f.unavailable(w, r, "rate limiter", err)
		return
	}
	if wait > 0 {
		problem.TooMany(w, wait, "Too many failed logins for this account. Try again later.")
		return
	}
	var u user
	var hash string
	err = f.pool.QueryRow(ctx, `SELECT id::text, email, name, password_hash FROM users WHERE email_lower = lower($1)`,
		strings.TrimSpace(req.Email)).Scan(&u.ID, &u.Email, &u.Name, &hash)
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
		if err := f.limiter.fail(ctx, req.Email); err != nil {
			f.log.ErrorContext(ctx, "rate limiter", "err", err)
		}
		problem.Unauthorized(w, badCredentials)
		return
	}
	if err := f.limiter.reset(ctx, req.Email); err != nil {
		f.log.WarnContext(ctx, "rate limiter reset", "err", err)
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

func (f *Function) logout(w http.ResponseWriter, r *http.Request) {
	if err := f.sessions.Delete(r.Context(), session.Token(r)); err != nil {
		f.unavailable(w, r, "session delete", err)
		return
	}
	f.sessions.ClearCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (f *Function) me(w http.ResponseWriter, r *http.Request) {
	var u user
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
