package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
)

// hopStamps are the clocks one post's notification passes on its way from
// POST /api/posts to a friend's WebSocket. All of them are this machine's
// clock: the bench's, the event's `time` (set by events.New in the
// producing function), the Kafka record's CreateTime (set by the KafkaSink's
// producer, millisecond precision) and processed_at (now() of the consumer's
// transaction, functions/internal/consume).
type hopStamps struct {
	postTime, postRecord, fanoutTx time.Time // once per post
	notifTime, notifRecord         time.Time // once per friend
	notifyTx                       time.Time // once per friend
}

// hopSegments name the stretches between the stamps, in path order.
var hopSegments = []string{
	"post: POST sent → post.created built",
	"post commit → outbox → KafkaSink → Kafka",
	"Kafka → dispatcher → fanout tx",
	"fanout: checks, friends, events built",
	"fanout commit → outbox → KafkaSink → Kafka",
	"Kafka → dispatcher (partition queue) → notify tx",
	"notify: tx, commit, Redis → inbox → WebSocket",
}

// pathRecord is what a record on a topic says about itself.
type pathRecord struct {
	id, source  string
	time        time.Time // the CloudEvent's time attribute
	recordTime  time.Time // the Kafka record's timestamp
	postID, key string
}

// pathTrace is every stamp the run left in Kafka and Postgres, read once
// after the climb so that reading it never competes with the load.
type pathTrace struct {
	posts  map[string]pathRecord            // post id → its post.created
	notifs map[string]map[string]pathRecord // post id → recipient → its notification.created
	fanout map[string]time.Time             // post.created id → fanout's processed_at
	notify map[string]time.Time             // notification.created id → notify's processed_at
}

// readPathTrace reads tidings.posts and tidings.notifications from the
// start, and the processed_events of fanout and notify.
// auth is the stack's Kafka superuser (the broker takes only SASL clients).
func readPathTrace(ctx context.Context, brokers []string, auth kafkaauth.Credentials, dbURL string) (*pathTrace, error) {
	t := &pathTrace{posts: map[string]pathRecord{}, notifs: map[string]map[string]pathRecord{}}
	posts, err := readTopic(brokers, auth, "tidings.posts")
	if err != nil {
		return nil, err
	}
	for _, r := range posts {
		t.posts[r.postID] = r
	}
	notifs, err := readTopic(brokers, auth, "tidings.notifications")
	if err != nil {
		return nil, err
	}
	for _, r := range notifs {
		if t.notifs[r.postID] == nil {
			t.notifs[r.postID] = map[string]pathRecord{}
		}
		t.notifs[r.postID][r.key] = r
	}
	if t.fanout, err = processedAt(ctx, dbURL, "fanout"); err != nil {
		return nil, err
	}
	if t.notify, err = processedAt(ctx, dbURL, "notify"); err != nil {
		return nil, err
	}
	return t, nil
}

// readTopic reads every record now on topic, all partitions.
func readTopic(brokers []string, auth kafkaauth.Credentials, topic string) ([]pathRecord, error) {
	cfg := sarama.NewConfig()
	cfg.ClientID = "bench-path-trace"
	cfg.Version = sarama.V2_8_0_0
	if err := auth.Sarama(cfg); err != nil {
		return nil, fmt.Errorf("path trace: kafka: %w", err)
	}
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("path trace: kafka: %w", err)
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, fmt.Errorf("path trace: kafka: %w", err)
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("path trace: %s: %w", topic, err)
	}
	var out []pathRecord
	for _, p := range parts {
		end, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("path trace: %s/%d: %w", topic, p, err)
		}
		if end == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("path trace: %s/%d: %w", topic, p, err)
		}
		for m := range pc.Messages() {
			out = append(out, recordStamps(m))
			if m.Offset+1 >= end {
				break
			}
		}
		pc.Close()
	}
	return out, nil
}

func recordStamps(m *sarama.ConsumerMessage) pathRecord {
	r := pathRecord{recordTime: m.Timestamp, key: string(m.Key)}
	for _, h := range m.Headers {
		switch strings.ToLower(string(h.Key)) {
		case "ce_id":
			r.id = string(h.Value)
		case "ce_source":
			r.source = string(h.Value)
		case "ce_time":
			r.time, _ = time.Parse(time.RFC3339Nano, string(h.Value))
		}
	}
	var p struct {
		PostID string `json:"postId"`
	}
	_ = json.Unmarshal(m.Value, &p) // a record without one matches no post
	r.postID = p.PostID
	return r
}

func processedAt(ctx context.Context, dbURL, consumer string) (map[string]time.Time, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("path trace: postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT event_id, processed_at FROM processed_events WHERE consumer = $1`, consumer)
	if err != nil {
		return nil, fmt.Errorf("path trace: processed_events of %s: %w", consumer, err)
	}
	out := map[string]time.Time{}
	var id string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error { out[id] = at; return nil })
	return out, err
}

// breakdown splits each delivered notification of posts into hopSegments;
// arrivals are the friends' WebSocket arrival times per post, keyed by the
// friend's user id. A notification missing a stamp is left out and counted.
func (t *pathTrace) breakdown(posts []postResult, arrivals func(p postResult) map[string]time.Time) (segs [][]time.Duration, total []time.Duration, unstamped int) {
	segs = make([][]time.Duration, len(hopSegments))
	for _, p := range posts {
		if p.err != nil {
			continue
		}
		pr, ok := t.posts[p.id]
		fanTx, okF := t.fanout[pr.id]
		for friend, at := range arrivals(p) {
			nr, okN := t.notifs[p.id][friend]
			notifyTx, okT := t.notify[nr.id]
			if !ok || !okF || !okN || !okT || pr.time.IsZero() || nr.time.IsZero() {
				unstamped++
				continue
			}
			stamps := []time.Time{p.sent, pr.time, pr.recordTime, fanTx, nr.time, nr.recordTime, notifyTx, at}
			for i := range hopSegments {
				segs[i] = append(segs[i], stamps[i+1].Sub(stamps[i]))
			}
			total = append(total, at.Sub(p.sent))
		}
	}
	return segs, total, unstamped
}

// printBreakdown prints one latency table of the segments per phase.
func printBreakdown(out io.Writer, name string, segs [][]time.Duration, total []time.Duration, unstamped int) {
	fmt.Fprintf(out, "where the time goes, %s (per notification; Kafka timestamps are whole ms):\n", name)
	tbl := newLatencyTable(out)
	for i, s := range segs {
		tbl.row(hopSegments[i], s)
	}
	tbl.row("= POST sent → WebSocket", total)
	tbl.flush()
	if unstamped > 0 {
		fmt.Fprintf(out, "  (%d notifications had a stamp missing and are left out)\n", unstamped)
	}
}
