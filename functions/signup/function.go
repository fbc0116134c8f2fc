package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/clientip"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/password"
	"github.com/tidings-dev/tidings/functions/internal/pg"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/problem"
)

// Name is the function's Knative Service.
const Name = "signup"

// Needs are the backing services the runtime connects for it.
var Needs = app.Needs{Sessions: true, Sink: true}

// source names this function in the events it emits.
const source = "/tidings/signup"

// Function serves POST /api/signup.
type Function struct {
	http.Handler
	outbox   *outbox.Outbox
	sessions *session.Store
	log      *slog.Logger
	limits
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	l, err := newLimits(a)
	if err != nil {
		return nil, err
	}
	f := &Function{outbox: a.Outbox, sessions: a.Sessions, log: a.Log, limits: l}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/signup", f.signup)
	f.Handler = a.PublicAPI(mux)
	return f, nil
}

// signup creates the account and its user.signedup event in one
// transaction, then logs the new user in.
func (f *Function) signup(w http.ResponseWriter, r *http.Request) {
	var req signupRequest
	if !jsonbody.Decode(w, r, &req, 16<<10) {
		return
	}
	if errs := req.validate(); len(errs) > 0 {
		problem.Invalid(w, errs...)
		return
	}
	if !f.signups.Allow(w, r, clientip.Network(clientip.Of(r, f.hops)), "Too many signups from your network. Try again later.") {
		return
	}
	hash, err := password.Hash(req.Password)
	if err != nil {
		f.fail(w, r, "hash password", err)
		return
	}
	ctx := r.Context()
	u := session.User{Email: req.Email, Name: req.Name}
	err = f.outbox.Run(ctx, func(tx *outbox.Tx) error {
		var created time.Time
		err := tx.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id::text, created_at`,
			u.Email, u.Name, hash).Scan(&u.ID, &created)
		if err != nil {
			return err
		}
		e, err := events.New(source, events.TypeUserSignedUp, u.ID, u.ID, events.UserSignedUp{
			UserID: u.ID, Email: u.Email, Name: u.Name, SignedUpAt: created.UTC(),
		})
		if err != nil {
			return err
		}
		return tx.Emit(ctx, e)
	})
	if pg.IsUniqueViolation(err, "users_email_lower_key") {
		problem.Conflict(w, "An account with this email already exists.", problem.FieldError{Field: "email", Detail: "is already registered"})
		return
	}
	if err != nil {
		f.fail(w, r, "create user", err)
		return
	}
	// The account exists now; a session failure should not hide that.
	if token, err := f.sessions.Create(ctx, u.ID); err != nil {
		f.log.ErrorContext(ctx, "signup: session not created; the user can log in", "err", err)
	} else {
		f.sessions.SetCookie(w, token)
	}
	w.Header().Set("Location", "/api/me")
	jsonbody.Write(w, http.StatusCreated, u)
}

func (f *Function) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	f.log.ErrorContext(r.Context(), what, "err", err)
	problem.Internal(w)
}
