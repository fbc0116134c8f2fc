// Command fanoutbench measures the live-notification path end to end: from
// a post.created event handed to the posts KafkaSink to the WebSocket
// message at every friend of the author, at a steady rate of posts.
//
// Everything on the path is the real code, in one process, talking over
// real sockets: the KafkaSink ingress emulation (HTTP in, Kafka out) in
// front of an in-process kfake broker, the KafkaSource dispatcher
// emulation (Kafka in, HTTP out) for fanout and notify, the fanout, notify
// and inbox handlers behind real HTTP servers with their outbox, Postgres
// and Redis, and one WebSocket client per friend.
//
// Not on the path: POST /api/posts itself (the post function's transaction
// and outbox send into the posts KafkaSink are replaced by one HTTP POST of
// the event to that KafkaSink), the gateway and Knative's queue-proxy.
//
//	go run ./functions/fanout/fanoutbench -authors 4 -friends 50 -rate 4 -duration 20s
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/fanout/fanout"
	"github.com/tidings-dev/tidings/functions/inbox/inbox"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/notification"
	"github.com/tidings-dev/tidings/functions/internal/session"
	"github.com/tidings-dev/tidings/functions/notify/notify"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasink"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
)

func main() {
	var (
		pgURL    = flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "Postgres server (a scratch database is created on it and dropped after)")
		redisURL = flag.String("redis", "redis://127.0.0.1:6379/0", "Redis server")
		authors  = flag.Int("authors", 4, "authors posting in turn")
		friends  = flag.Int("friends", 50, "friends per author, each with an open WebSocket")
		rate     = flag.Float64("rate", 4, "posts per second")
		duration = flag.Duration("duration", 20*time.Second, "how long to post at the rate")
		warmup   = flag.Int("warmup", 3, "posts sent first and not measured")
	)
	flag.Parse()
	if err := run(*pgURL, *redisURL, *authors, *friends, *rate, *duration, *warmup); err != nil {
		fmt.Fprintln(os.Stderr, "fanoutbench:", err)
		os.Exit(1)
	}
}

func run(pgURL, redisURL string, authors, friends int, rate float64, duration time.Duration, warmup int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dbURL, dropDB, err := scratchDatabase(ctx, pgURL)
	if err != nil {
		return err
	}
	defer dropDB()

	// Kafka and the two KafkaSinks.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.SeedTopics(3, events.TopicPosts, events.TopicNotifications, events.TopicFriends))
	if err != nil {
		return fmt.Errorf("kfake: %w", err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	ingress, err := kafkasink.NewIngress(kafkasink.Config{Brokers: brokers, Logger: quiet})
	if err != nil {
		return err
	}
	defer ingress.Close()
	for name, topic := range map[string]string{"posts": events.TopicPosts, "notifications": events.TopicNotifications} {
		if err := ingress.Register("tidings", name, topic, kafkasink.ContentModeBinary); err != nil {
			return err
		}
	}
	ingressURL, stopIngress, err := serve(ingress)
	if err != nil {
		return err
	}
	defer stopIngress()

	// The three functions, each with its own App like in its own pod.
	newApp := func(name string, needs app.Needs, sink string) (*app.App, error) {
		a, err := app.New(ctx, name, needs, app.Settings{DatabaseURL: dbURL, RedisURL: redisURL, Sink: sink})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		a.Log = quiet.With("service", name)
		return a, nil
	}
	fanApp, err := newApp("fanout", app.Needs{Sink: true}, ingressURL+"/tidings/notifications")
	if err != nil {
		return err
	}
	defer fanApp.Close()
	notifyApp, err := newApp("notify", app.Needs{Redis: true}, "")
	if err != nil {
		return err
	}
	defer notifyApp.Close()
	inboxApp, err := newApp("inbox", app.Needs{Redis: true}, "")
	if err != nil {
		return err
	}
	defer inboxApp.Close()

	fanoutURL, stopFanout, err := serve(fanout.Handler(fanApp))
	if err != nil {
		return err
	}
	defer stopFanout()
	notifyURL, stopNotify, err := serve(notify.Handler(notifyApp.Outbox, notifyApp.Log, notifyApp.Redis))
	if err != nil {
		return err
	}
	defer stopNotify()
	hub := inbox.NewHub(inboxApp.Redis, inboxApp.Log)
	defer hub.Close()
	inboxURL, stopInbox, err := serve(inbox.NewHandler(inboxApp.Pool, inboxApp.Sessions, inboxApp.Log, inbox.NewStream(hub, inboxApp.Log)))
	if err != nil {
		return err
	}
	defer stopInbox()

	// The two KafkaSources, with the delivery settings of knative/.
	delivery := kafkasource.Delivery{Retry: 5, BackoffPolicy: kafkasource.BackoffExponential, BackoffDelay: 200 * time.Millisecond, Timeout: 30 * time.Second}
	for _, src := range []kafkasource.Config{
		{Name: "fanout", Topics: []string{events.TopicPosts}, SubscriberURL: fanoutURL},
		{Name: "notify", Topics: []string{events.TopicFriends, events.TopicNotifications}, SubscriberURL: notifyURL},
	} {
		src.Namespace, src.Brokers, src.ConsumerGroup = "tidings", brokers, "tidings-"+src.Name
		src.InitialOffset, src.Ordering, src.Delivery, src.Logger = kafkasource.OffsetEarliest, kafkasource.OrderingOrdered, delivery, quiet
		d, err := kafkasource.Start(ctx, src)
		if err != nil {
			return fmt.Errorf("kafkasource %s: %w", src.Name, err)
		}
		defer d.Close()
		select {
		case <-d.Ready():
		case <-time.After(30 * time.Second):
			return fmt.Errorf("kafkasource %s got no partitions", src.Name)
		}
	}

	// Authors, their friends, and a WebSocket per friend.
	cast, err := makeUsers(ctx, fanApp, authors, friends)
	if err != nil {
		return err
	}
	rec := newRecorder()
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.CloseNow() //nolint:errcheck
		}
	}()
	for _, a := range cast {
		for _, f := range a.friends {
			c, err := openStream(ctx, inboxApp.Sessions, inboxURL, f)
			if err != nil {
				return err
			}
			conns = append(conns, c)
			go rec.listen(ctx, c)
		}
	}
	if err := waitFor(30*time.Second, func() bool {
		for _, a := range cast {
			for _, f := range a.friends {
				if hub.Subscribers(f) != 1 {
					return false
				}
			}
		}
		return true
	}); err != nil {
		return fmt.Errorf("websockets not subscribed: %w", err)
	}

	// Post at a steady rate; each post is expected at every friend.
	sender, err := cloudevents.NewClientHTTP()
	if err != nil {
		return err
	}
	postsSink := ingressURL + "/tidings/posts"
	total := warmup + int(rate*duration.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	fmt.Printf("fanoutbench: %d authors x %d friends (%d WebSockets), %d posts at %.1f/s (%d warm-up)\n",
		authors, friends, len(conns), total, rate, warmup)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	for i := 0; i < total; i++ {
		a := cast[i%len(cast)]
		postID := uuid.NewString()
		e, err := events.New("/tidings/post", events.TypePostCreated, postID, a.id, events.PostCreated{
			PostID: postID, AuthorID: a.id, AuthorName: a.name, CreatedAt: time.Now().UTC(),
		})
		if err != nil {
			return err
		}
		rec.expect(postID, len(a.friends), i < warmup)
		if res := sender.Send(cloudevents.ContextWithTarget(ctx, postsSink), e); !cloudevents.IsACK(res) {
			return fmt.Errorf("post %d to the posts KafkaSink: %v", i, res)
		}
		<-tick.C
	}
	sendTime := time.Since(start)
	if err := waitFor(60*time.Second, rec.complete); err != nil {
		fmt.Printf("not every message arrived: %s\n", rec.missing())
	}
	rec.report(sendTime)
	return nil
}

// recorder matches WebSocket messages to the post that caused them.
type recorder struct {
	mu    sync.Mutex
	posts map[string]*postRecord
	dupes int
	stray int
}

type postRecord struct {
	sent     time.Time
	want     int
	warmup   bool
	arrivals []time.Duration
	seen     map[string]bool // notification ids, to catch duplicates
}

func newRecorder() *recorder { return &recorder{posts: map[string]*postRecord{}} }

func (r *recorder) expect(postID string, friends int, warmup bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts[postID] = &postRecord{sent: time.Now(), want: friends, warmup: warmup, seen: map[string]bool{}}
}

func (r *recorder) listen(ctx context.Context, c *websocket.Conn) {
	for {
		_, raw, err := c.Read(ctx)
		if err != nil {
			return
		}
		at := time.Now()
		var it notification.Item
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		r.mu.Lock()
		p := r.posts[it.PostID]
		switch {
		case p == nil:
			r.stray++
		case p.seen[it.ID]:
			r.dupes++
		default:
			p.seen[it.ID] = true
			p.arrivals = append(p.arrivals, at.Sub(p.sent))
		}
		r.mu.Unlock()
	}
}

func (r *recorder) complete() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.posts {
		if len(p.arrivals) < p.want {
			return false
		}
	}
	return true
}

func (r *recorder) missing() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got, want := 0, 0
	for _, p := range r.posts {
		got += len(p.arrivals)
		want += p.want
	}
	return fmt.Sprintf("%d of %d messages", got, want)
}

func (r *recorder) report(sendTime time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var each, last []time.Duration
	messages, posts := 0, 0
	for _, p := range r.posts {
		if p.warmup || len(p.arrivals) == 0 {
			continue
		}
		posts++
		messages += len(p.arrivals)
		each = append(each, p.arrivals...)
		if len(p.arrivals) == p.want {
			last = append(last, slices.Max(p.arrivals))
		}
	}
	fmt.Printf("measured %d posts (%d WebSocket messages) sent over %s; duplicates %d, unexpected %d\n",
		posts, messages, sendTime.Round(time.Millisecond), r.dupes, r.stray)
	fmt.Printf("post.created -> WebSocket, each friend:       p50 %s  p99 %s  max %s\n", pct(each, 50), pct(each, 99), pct(each, 100))
	fmt.Printf("post.created -> WebSocket, last of 50 friends: p50 %s  p99 %s  max %s  (%d posts complete)\n", pct(last, 50), pct(last, 99), pct(last, 100), len(last))
	fmt.Println("path: HTTP POST of the event to the posts KafkaSink ingress -> kfake tidings.posts -> KafkaSource dispatcher (ordered)" +
		" -> fanout HTTP (dedup + friends query + outbox batch, parallel sends) -> notifications KafkaSink ingress -> kfake tidings.notifications" +
		" -> KafkaSource dispatcher (ordered) -> notify HTTP (dedup + insert) -> Redis PUBLISH -> inbox hub -> WebSocket text frame." +
		" Not covered: POST /api/posts and its outbox, the gateway, Knative queue-proxy.")
}

func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "n/a"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(100 * time.Microsecond).String()
}

type author struct {
	id, name string
	friends  []string
}

// makeUsers inserts authors and their friends (both friendship rows).
func makeUsers(ctx context.Context, a *app.App, authors, friends int) ([]author, error) {
	var out []author
	for i := range authors {
		au := author{name: fmt.Sprintf("Author %d", i)}
		err := a.Pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x') RETURNING id::text`,
			fmt.Sprintf("author%d@bench.example", i), au.name).Scan(&au.id)
		if err != nil {
			return nil, fmt.Errorf("author: %w", err)
		}
		rows, err := a.Pool.Query(ctx, `
			WITH f AS (INSERT INTO users (email, name, password_hash)
				SELECT 'friend' || g || '-of-' || $1 || '@bench.example', 'Friend ' || g, 'x' FROM generate_series(1, $2) g RETURNING id),
			x AS (INSERT INTO friendships (user_id, friend_id) SELECT $1::uuid, id FROM f),
			y AS (INSERT INTO friendships (user_id, friend_id) SELECT id, $1::uuid FROM f)
			SELECT id::text FROM f`, au.id, friends)
		if err != nil {
			return nil, fmt.Errorf("friends: %w", err)
		}
		if au.friends, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("friends: %w", err)
		}
		out = append(out, au)
	}
	return out, nil
}

// openStream logs user in (a session straight in Redis) and opens the
// stream as a browser on the inbox's own origin.
func openStream(ctx context.Context, sessions *session.Store, base, user string) (*websocket.Conn, error) {
	token, err := sessions.Create(ctx, user)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Cookie", (&http.Cookie{Name: session.CookieName, Value: token}).String())
	h.Set("Origin", base)
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/api/notifications/stream", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, fmt.Errorf("websocket for %s: %w", user, err)
	}
	return c, nil
}

// serve runs h on a loopback port.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func waitFor(patience time.Duration, cond func() bool) error {
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// scratchDatabase creates a fresh database on the server of serverURL and
// returns its URL and a function that drops it.
func scratchDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b) //nolint:errcheck
	name := "fanoutbench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		conn.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`) //nolint:errcheck
		conn.Close(context.Background())
	}
	return u.String(), drop, nil
}
