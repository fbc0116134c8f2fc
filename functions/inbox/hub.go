package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/session"
)

// Hub shares one Redis pub/sub connection among every WebSocket of this
// instance: it subscribes to a user's channel while at least one of that
// user's clients is connected, and hands each message to those clients
// without ever waiting for one. A client whose buffer is full is dropped.
type Hub struct {
	ps  *redis.PubSub
	log *slog.Logger
	// MaxPerUser bounds one user's clients on this instance, so one
	// account cannot hold every connection slot.
	MaxPerUser int

	mu     sync.Mutex
	subs   map[string]map[*client]struct{} // by channel
	closed bool

	clients sync.WaitGroup
	dropped atomic.Int64
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when receive returns
}

// client is one WebSocket's place in the hub.
type client struct {
	user    string
	channel string
	session string // session.ID of the session it rides on
	out     chan liveMessage
	gone    chan struct{} // closed when the hub drops the client
	once    sync.Once
	code    websocket.StatusCode
	reason  string
}

// drop tells the client's connection to close with code and reason.
func (c *client) drop(code websocket.StatusCode, reason string) bool {
	dropped := false
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.gone)
		dropped = true
	})
	return dropped
}

// NewHub starts receiving from Redis.
func NewHub(rdb *redis.Client, log *slog.Logger) *Hub {
	h := &Hub{
		ps:         rdb.Subscribe(context.Background()),
		log:        log,
		MaxPerUser: 5,
		subs:       map[string]map[*client]struct{}{},
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go h.receive()
	return h
}

// ErrClosed means the hub is shutting down.
var ErrClosed = errors.New("hub: shutting down")

// ErrTooMany means the user has MaxPerUser clients here already.
var ErrTooMany = errors.New("hub: too many live connections for this user")

// Join registers a client of user, riding on the session sessionID, with
// room for buffer messages, and subscribes to the user's notification and
// session-ended channels if nobody here was yet.
func (h *Hub) Join(ctx context.Context, user, sessionID string, buffer int) (*client, error) {
	c := &client{user: user, channel: notification.Channel(user), session: sessionID, out: make(chan liveMessage, buffer), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	set := h.subs[c.channel]
	if h.MaxPerUser > 0 && len(set) >= h.MaxPerUser {
		return nil, ErrTooMany
	}
	if set == nil {
		if err := h.ps.Subscribe(ctx, c.channel, session.EndedChannel(user)); err != nil {
			return nil, err
		}
		set = map[*client]struct{}{}
		h.subs[c.channel] = set
	}
	set[c] = struct{}{}
	h.clients.Add(1)
	return c, nil
}

// Leave unregisters c, unsubscribing when it was the channel's last client.
func (h *Hub) Leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[c.channel]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	h.clients.Done()
	if len(set) > 0 {
		return
	}
	delete(h.subs, c.channel)
	if h.closed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := h.ps.Unsubscribe(ctx, c.channel, session.EndedChannel(c.user)); err != nil {
		h.log.Warn("live channel unsubscribe failed", "channel", c.channel, "err", err)
	}
}

// Subscribers counts the clients connected for user (for tests and tools).
func (h *Hub) Subscribers(user string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[notification.Channel(user)])
}

// Dropped counts clients dropped for being too slow.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// receive hands each Redis message to the channel's clients. When the Redis
// connection breaks, messages may have been lost: every client is closed
// with "try again later", so it reconnects and refetches the list.
func (h *Hub) receive() {
	defer close(h.done)
	ctx := context.Background()
	for {
		msg, err := h.ps.ReceiveTimeout(ctx, 30*time.Second)
		if h.isClosed() {
			return
		}
		var netErr net.Error
		switch m := msg.(type) {
		case *redis.Message:
			if user, ok := session.EndedUser(m.Channel); ok {
				h.endSessions(user, m.Payload)
			} else {
				h.deliver(m.Channel, []byte(m.Payload))
			}
			continue
		case nil:
		default: // subscription confirmations, pongs
			continue
		}
		if errors.As(err, &netErr) && netErr.Timeout() {
			// Quiet channel: check the connection is still alive.
			if err := h.ps.Ping(ctx); err != nil {
				h.log.Warn("live channel ping failed", "err", err)
			}
			continue
		}
		h.log.Warn("live channel interrupted; closing streams so clients refetch", "err", err)
		h.dropAll(websocket.StatusTryAgainLater, "live channel interrupted")
		select {
		case <-time.After(500 * time.Millisecond):
		case <-h.stop:
			return
		}
	}
}

// liveMessage is one notification for a client, with the trace context it
// was published in.
type liveMessage struct {
	parent trace.SpanContext
	body   []byte
}

func (h *Hub) deliver(channel string, payload []byte) {
	parent, body := notification.DecodeLive(payload)
	msg := liveMessage{parent: parent, body: body}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[channel] {
		select {
		case c.out <- msg:
		default:
			// Never wait for one client: the others would wait with it.
			if c.drop(websocket.StatusPolicyViolation, "too slow") {
				h.dropped.Add(1)
				h.log.Warn("dropped a slow live client", "channel", channel)
			}
		}
	}
}

// endSessions closes the user's clients riding on the session that ended
// (or on any, for session.AllEnded) with 1008.
func (h *Hub) endSessions(user, sessionID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs[notification.Channel(user)] {
		if sessionID == session.AllEnded || sessionID == c.session {
			c.drop(websocket.StatusPolicyViolation, "session ended")
		}
	}
}

func (h *Hub) dropAll(code websocket.StatusCode, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for c := range set {
			c.drop(code, reason)
		}
	}
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Close tells every client the server is going away, waits (a bounded
// time) for their connections to close, and stops receiving.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.stop)
	h.mu.Unlock()
	h.dropAll(websocket.StatusGoingAway, "server shutting down")
	waited := make(chan struct{})
	go func() { h.clients.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		h.log.Warn("some live clients did not close in time")
	}
	h.ps.Close() //nolint:errcheck
	<-h.done
}
