package session

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/tidings-dev/tidings/functions/problem"
)

// CookieName is the session cookie.
const CookieName = "tidings_session"

// SetCookie hands token to the browser: HttpOnly, SameSite=Lax, and Secure
// when the site is served over HTTPS (Store.Secure, from PUBLIC_URL).
func (s *Store) SetCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/",
		MaxAge:   int(s.Absolute.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure,
	})
}

// ClearCookie removes the session cookie from the browser.
func (s *Store) ClearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure})
}

// Token returns the session token the request carries, if any.
func Token(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

type userKey struct{}

// UserID returns the logged-in user's id set by Require.
func UserID(ctx context.Context) string {
	id, _ := ctx.Value(userKey{}).(string)
	return id
}

// WithUserID returns ctx carrying id as the logged-in user.
func WithUserID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, userKey{}, id)
}

// Require lets only requests with a valid session through, with the user id
// in the context. 401 without a session; 503 when Redis is down, so a client
// retries rather than logs out.
func (s *Store) Require(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.Get(r.Context(), Token(r))
		switch {
		case errors.Is(err, ErrNoSession):
			problem.Unauthorized(w, "Log in to continue.")
			return
		case err != nil:
			log.ErrorContext(r.Context(), "session lookup failed", "err", err)
			problem.Unavailable(w, "Sessions are unavailable right now.")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithUserID(r.Context(), sess.UserID)))
	})
}
