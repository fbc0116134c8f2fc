package session

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/tidings-dev/tidings/functions/internal/problem"
)

// CookieName is the session cookie.
const CookieName = "tidings_session"

// SetCookie hands token to the browser: HttpOnly, SameSite=Lax, and Secure
// unless the site is served from localhost over plain HTTP.
func (s *Store) SetCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/",
		MaxAge:   int(s.Absolute.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: !isLocalhost(r),
	})
}

// ClearCookie removes the session cookie from the browser.
func ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: !isLocalhost(r)})
}

// Token returns the session token the request carries, if any.
func Token(r *http.Request) string {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

func isLocalhost(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host).IsLoopback()
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
