package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/internal/site"
	"github.com/tidings-dev/tidings/functions/problem"
	"github.com/tidings-dev/tidings/functions/telemetry"
)

// Stream serves GET /api/notifications/stream: a WebSocket carrying each new
// notification of the logged-in user as one JSON text message.
type Stream struct {
	hub      *Hub
	sessions *session.Store
	log      *slog.Logger
	site     site.Site
	// Recheck is how often an open socket checks that its session still
	// exists; when it does not, the socket closes with 1008. A logout
	// closes it at once (the hub hears it on the session-ended channel);
	// the check catches what announces nothing: expiry, a Redis flush.
	Recheck time.Duration
	// Heartbeat is the interval between pings; a client that does not
	// answer within WriteTimeout is gone.
	Heartbeat time.Duration
	// Buffer is how many messages may wait for one slow client before it
	// is dropped.
	Buffer int
	// WriteTimeout bounds one message (or ping) to the client.
	WriteTimeout time.Duration
}

// NewStream returns a stream with production settings, for pages of site.
func NewStream(hub *Hub, sessions *session.Store, log *slog.Logger, site site.Site) *Stream {
	return &Stream{hub: hub, sessions: sessions, log: log, site: site, Recheck: 15 * time.Second, Heartbeat: 20 * time.Second, Buffer: 64, WriteTimeout: 10 * time.Second}
}

// fromSite accepts a request without Origin (not a browser) or one whose
// Origin is one of the site's public origins: a page on another site cannot
// open a socket that rides on the user's cookie. Host is no guide: behind the
// cluster's HTTPRoute it is the function's cluster-local name.
func (s *Stream) fromSite(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || s.site.Allows(origin)
}

func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user := session.UserID(r.Context())
	if !s.fromSite(r) {
		problem.Forbidden(w, "The live stream only accepts connections from this site.")
		return
	}
	// Subscribe before the upgrade, so Redis being down is a plain 503.
	c, err := s.hub.Join(r.Context(), user, session.ID(session.Token(r)), s.Buffer)
	if errors.Is(err, ErrTooMany) {
		// The new socket is refused, not the oldest closed: a browser
		// reconnects a closed socket, so closing the oldest would have the
		// user's tabs take each other's places in a loop.
		problem.TooMany(w, 30*time.Second, "You have too many live connections open; close a tab or try again later.")
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "live channel subscribe failed", "user", user, "err", err)
		problem.Unavailable(w, "Live notifications are unavailable right now.")
		return
	}
	defer s.hub.Leave(c)
	// Accept checks the Origin again, against the same public origins, as a
	// second lock (it also lets Origin equal Host, which fromSite refused
	// already unless Host is public).
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.site.Origins()})
	if err != nil {
		return // Accept answered the client
	}
	defer conn.CloseNow() //nolint:errcheck
	conn.SetReadLimit(512)
	// The client sends nothing; reading only answers pings and notices a close.
	ctx := conn.CloseRead(context.WithoutCancel(r.Context()))

	// A dropped client may be stuck in a write to a full socket; closing
	// from here unblocks it.
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-c.gone:
			conn.Close(c.code, c.reason) //nolint:errcheck
		case <-ctx.Done():
		case <-stop:
			select { // the writer may have stopped because of the drop
			case <-c.gone:
				conn.Close(c.code, c.reason) //nolint:errcheck
			default:
			}
		}
	}()
	defer func() { close(stop); <-stopped }()

	tick := time.NewTicker(s.Heartbeat)
	defer tick.Stop()
	recheck := time.NewTicker(s.Recheck)
	defer recheck.Stop()
	token := session.Token(r)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gone:
			return
		case msg := <-c.out:
			if err := s.push(ctx, conn, msg); err != nil {
				s.logGone(ctx, user, err)
				return
			}
		case <-recheck.C:
			s.checkSession(ctx, c, token)
		case <-tick.C:
			pctx, cancel := context.WithTimeout(ctx, s.WriteTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				s.logGone(ctx, user, err)
				return
			}
		}
	}
}

// checkSession drops c when its session has ended. The check does not slide
// the session's idle timeout: an open tab is not a use of the account.
func (s *Stream) checkSession(ctx context.Context, c *client, token string) {
	ctx, cancel := context.WithTimeout(ctx, s.WriteTimeout)
	defer cancel()
	_, err := s.sessions.Check(ctx, token)
	switch {
	case errors.Is(err, session.ErrNoSession):
		c.drop(websocket.StatusPolicyViolation, "session ended")
	case err != nil && ctx.Err() == nil:
		// Sessions cannot be checked: the client reconnects once they
		// can, through the session check of the upgrade.
		s.log.WarnContext(ctx, "live client session check failed", "err", err)
		c.drop(websocket.StatusTryAgainLater, "sessions unavailable")
	}
}

// push writes one notification, traced as a span of the trace it was
// published in (the post's or the friend request's), linked to the
// WebSocket's own request.
func (s *Stream) push(ctx context.Context, conn *websocket.Conn, msg liveMessage) (err error) {
	pctx := ctx
	var opts []trace.SpanStartOption
	if msg.parent.IsValid() {
		pctx = trace.ContextWithRemoteSpanContext(ctx, msg.parent)
		opts = telemetry.Link(ctx, msg.parent)
	}
	pctx, span := tracer.Start(pctx, "websocket push", append(opts, trace.WithSpanKind(trace.SpanKindProducer))...)
	defer func() { telemetry.RecordError(span, err); span.End() }()
	return s.write(pctx, conn, msg.body)
}

var tracer = otel.Tracer("github.com/tidings-dev/tidings/functions/inbox")

func (s *Stream) write(ctx context.Context, conn *websocket.Conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, msg)
}

func (s *Stream) logGone(ctx context.Context, user string, err error) {
	if errors.Is(err, context.Canceled) || websocket.CloseStatus(err) != -1 {
		return // the client left
	}
	s.log.InfoContext(ctx, "live client gone", "user", user, "err", err)
}
