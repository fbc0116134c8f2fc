package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/tidings-dev/tidings/infra/backing"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasink"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
)

// hopOptions are the hop benchmark's knobs.
type hopOptions struct {
	climb    climbOptions
	ordering string // the KafkaSource's delivery order
}

func (h *hopOptions) flags(fs *flag.FlagSet, prefix string) {
	h.climb.flags(fs, prefix, "events")
	fs.StringVar(&h.ordering, prefix+"ordering", h.ordering, `the KafkaSource's delivery order: "unordered" or "ordered"`)
}

// hopEvent is the payload of every event: about the size of a post.created.
var hopEvent = []byte(`{"postId":"0196a3c4-9b7e-7c1a-8f00-000000000001","authorId":"0196a3c4-9b7e-7c1a-8f00-000000000002",` +
	`"authorName":"Bench Author","hasImage":false,"createdAt":"2026-01-01T00:00:00Z"}`)

// hopLatency sends the same events at the same rates two ways on one
// embedded broker (the stack's own, infra/local/backing):
//   - raw: a sarama SyncProducer → Kafka → a sarama consumer group in this
//     process, the floor;
//   - hop: HTTP POST of a binary CloudEvent to the KafkaSink ingress → Kafka
//     → the KafkaSource dispatcher → HTTP POST to a receiver that only
//     answers 202, the path every event between two functions takes;
//
// and prints both curves side by side with the ratio of their p50s. Each
// rate gets fresh topics and consumer groups, so a step never sees an
// earlier one's events.
func hopLatency(ctx context.Context, _ string, o options) error {
	h := o.hop
	heading("event hop (KafkaSink → Kafka → KafkaSource → subscriber) against raw Kafka (sarama produce → consume), climbing rates")
	if err := h.climb.check(); err != nil {
		return err
	}
	if h.ordering != kafkasource.OrderingUnordered && h.ordering != kafkasource.OrderingOrdered {
		return fmt.Errorf(`-ordering must be "unordered" or "ordered", not %q`, h.ordering)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	kafka, err := backing.StartKafka(ctx, "", fmt.Sprintf("127.0.0.1:%d", port), nil)
	if err != nil {
		return err
	}
	defer kafka.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	brokers := kafka.Brokers()
	admin, err := sarama.NewClusterAdmin(brokers, hopSaramaConfig("bench-hop-admin"))
	if err != nil {
		return fmt.Errorf("kafka admin: %w", err)
	}
	defer admin.Close()
	producer, err := sarama.NewSyncProducer(brokers, hopProducerConfig())
	if err != nil {
		return fmt.Errorf("raw producer: %w", err)
	}
	defer producer.Close()

	ingress, err := kafkasink.NewIngress(kafkasink.Config{Brokers: brokers, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer ingress.Close()
	ingressURL, stopIngress, err := serveLoopback(ingress)
	if err != nil {
		return err
	}
	defer stopIngress()
	receiver := newArrivals()
	receiverURL, stopReceiver, err := serveLoopback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		receiver.arrived(r.Header.Get("Ce-Id"))
		w.WriteHeader(http.StatusAccepted)
	}))
	if err != nil {
		return err
	}
	defer stopReceiver()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024}}

	fmt.Printf("conditions: one embedded kfake broker (infra/local/backing), topics of %d partitions, everything in this process;\n", backing.KafkaPartitions)
	fmt.Printf("            raw: sarama SyncProducer (acks=all, idempotent) → sarama consumer group (read_committed);\n")
	fmt.Printf("            hop: HTTP POST binary CloudEvent → KafkaSink ingress → Kafka → KafkaSource dispatcher (%s) → HTTP 202 receiver;\n", h.ordering)
	fmt.Printf("            %d-byte events without a key; each rate held %s per path, raw first; latency from send to receipt;\n", len(hopEvent), h.climb.step)
	fmt.Printf("            a step saturates when either path's p99 or drain is over %s, or loses or duplicates an event\n", keptUpWithin)

	curve := newTable(os.Stdout, "events/s", "raw sent/s", "p50", "p99", "max", "lost", "dup", "hop sent/s", "p50", "p99", "max", "lost", "dup", "failed", "hop/raw p50", "")
	problems := false
	step := 0
	sustained, climbErr := climb(ctx, h.climb.rates, func(rate float64) ([]string, error) {
		step++
		raw, err := rawStep(ctx, admin, producer, brokers, step, rate, h.climb)
		if err != nil {
			return nil, err
		}
		hop, err := hopStep(ctx, admin, ingress, ingressURL, receiverURL, client, receiver, brokers, step, rate, h)
		if err != nil {
			return nil, err
		}
		var reasons []string
		for _, p := range []struct {
			name string
			s    pathStats
		}{{"raw", raw}, {"hop", hop}} {
			for _, r := range saturation(percentile(sorted(p.s.latency), 99), p.s.drain, p.s.lost, p.s.duplicated, p.s.failed) {
				reasons = append(reasons, p.name+" "+r)
			}
			if p.s.failed > 0 {
				fmt.Printf("%g events/s, %s: %d sends failed, e.g. %s\n", rate, p.name, p.s.failed, p.s.firstFailure)
			}
			if p.s.lost+p.s.duplicated > 0 {
				problems = true
				fmt.Printf("!!! %g events/s, %s: %d LOST, %d DUPLICATED\n", rate, p.name, p.s.lost, p.s.duplicated)
			}
		}
		ratio := "-"
		if rp, hp := percentile(sorted(raw.latency), 50), percentile(sorted(hop.latency), 50); rp > 0 && hp > 0 {
			ratio = fmt.Sprintf("%.2f×", float64(hp)/float64(rp))
		}
		row := []string{fmt.Sprint(rate), fmt.Sprintf("%.0f", raw.sentPerSecond)}
		row = append(row, spread(raw.latency)...)
		row = append(row, fmt.Sprint(raw.lost), fmt.Sprint(raw.duplicated), fmt.Sprintf("%.0f", hop.sentPerSecond))
		row = append(row, spread(hop.latency)...)
		row = append(row, fmt.Sprint(hop.lost), fmt.Sprint(hop.duplicated), fmt.Sprint(raw.failed+hop.failed), ratio, verdict(reasons))
		curve.add(row...)
		return reasons, nil
	})
	fmt.Printf("curve (failed: sends Kafka or the ingress refused, both paths):\n")
	curve.flush()
	fmt.Println(sustainedLine(sustained, "events", h.climb.rates))
	if climbErr != nil {
		return climbErr
	}
	if problems {
		return errors.New("hop benchmark: events lost or duplicated (numbers above)")
	}
	return nil
}

// pathStats are one path's numbers at one rate.
type pathStats struct {
	sentPerSecond    float64
	latency          []time.Duration
	lost, duplicated int
	failed           int
	firstFailure     string
	drain            time.Duration
}

// rawStep produces at rate with sarama and consumes with a consumer group.
func rawStep(ctx context.Context, admin sarama.ClusterAdmin, producer sarama.SyncProducer, brokers []string, step int, rate float64, c climbOptions) (pathStats, error) {
	topic := fmt.Sprintf("bench.hop.raw.%d", step)
	if err := createTopic(admin, topic); err != nil {
		return pathStats{}, err
	}
	got := newArrivals()
	group, err := sarama.NewConsumerGroup(brokers, "bench-hop-raw-"+strconv.Itoa(step), hopConsumerConfig())
	if err != nil {
		return pathStats{}, fmt.Errorf("raw consumer: %w", err)
	}
	defer group.Close()
	consumeCtx, stop := context.WithCancel(ctx)
	defer stop()
	handler := &rawHandler{got: got, ready: make(chan struct{})}
	go func() {
		for consumeCtx.Err() == nil {
			if err := group.Consume(consumeCtx, []string{topic}, handler); err != nil && consumeCtx.Err() == nil {
				fmt.Fprintf(os.Stderr, "raw consumer: %v\n", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	if err := waitReady(ctx, handler.ready, "the raw consumer group"); err != nil {
		return pathStats{}, err
	}
	return offerEvents(ctx, rate, c, got, func(id string) error {
		_, _, err := producer.SendMessage(&sarama.ProducerMessage{
			Topic: topic, Value: sarama.ByteEncoder(hopEvent),
			Headers: []sarama.RecordHeader{{Key: []byte("ce_id"), Value: []byte(id)}},
		})
		return err
	})
}

// hopStep posts CloudEvents to a KafkaSink and receives them from a
// KafkaSource.
func hopStep(ctx context.Context, admin sarama.ClusterAdmin, ingress *kafkasink.Ingress, ingressURL, receiverURL string, client *http.Client, got *arrivals, brokers []string, step int, rate float64, h hopOptions) (pathStats, error) {
	topic := fmt.Sprintf("bench.hop.sink.%d", step)
	if err := createTopic(admin, topic); err != nil {
		return pathStats{}, err
	}
	name := fmt.Sprintf("hop-%d", step)
	if err := ingress.Register("bench", name, topic, kafkasink.ContentModeBinary); err != nil {
		return pathStats{}, err
	}
	d, err := kafkasource.Start(ctx, kafkasource.Config{
		Name: name, Namespace: "bench", Brokers: brokers, Topics: []string{topic},
		ConsumerGroup: "bench-hop-" + strconv.Itoa(step), InitialOffset: kafkasource.OffsetEarliest,
		Ordering: h.ordering, SubscriberURL: receiverURL, Logger: quietLogger(),
		Delivery: kafkasource.Delivery{Retry: 5, BackoffDelay: 200 * time.Millisecond},
	})
	if err != nil {
		return pathStats{}, err
	}
	defer d.Close()
	if err := waitReady(ctx, d.Ready(), "the KafkaSource dispatcher"); err != nil {
		return pathStats{}, err
	}
	got.reset()
	sinkURL := ingressURL + "/bench/" + name
	return offerEvents(ctx, rate, h.climb, got, func(id string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, sinkURL, strings.NewReader(string(hopEvent)))
		if err != nil {
			return err
		}
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", id)
		req.Header.Set("Ce-Source", "/bench/hop")
		req.Header.Set("Ce-Type", "bench.hop")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("KafkaSink answered %s", resp.Status)
		}
		return nil
	})
}

// offerEvents sends c.stepTotal(rate) events at rate through send, waits for
// got to have them all, and counts.
func offerEvents(ctx context.Context, rate float64, c climbOptions, got *arrivals, send func(id string) error) (pathStats, error) {
	total := c.stepTotal(rate)
	sent := make([]time.Time, total)
	failed := make([]error, total)
	begin := time.Now()
	offeredFor, err := openLoop(ctx, rate, total, func(i int) {
		sent[i] = time.Now()
		failed[i] = send(strconv.Itoa(i))
	})
	if err != nil {
		return pathStats{}, err
	}
	want := 0
	for _, f := range failed {
		if f == nil {
			want++
		}
	}
	got.waitFor(ctx, want, c.drain)
	st := pathStats{sentPerSecond: achieved(total, offeredFor)}
	first, count, last := got.snapshot()
	for i := range total {
		if failed[i] != nil {
			if st.failed == 0 {
				st.firstFailure = failed[i].Error()
			}
			st.failed++
			continue
		}
		at, ok := first[strconv.Itoa(i)]
		if !ok {
			st.lost++
			continue
		}
		st.latency = append(st.latency, at.Sub(sent[i]))
	}
	for _, n := range count {
		st.duplicated += n - 1
	}
	st.drain = drainAfter(begin.Add(offeredFor), last)
	return st, nil
}

// arrivals stamps each event id when it first arrives and counts repeats.
type arrivals struct {
	mu    sync.Mutex
	first map[string]time.Time
	count map[string]int
	last  time.Time
}

func newArrivals() *arrivals {
	return &arrivals{first: map[string]time.Time{}, count: map[string]int{}}
}

func (a *arrivals) arrived(id string) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.first[id]; !ok {
		a.first[id] = now
	}
	a.count[id]++
	a.last = now
}

func (a *arrivals) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.first, a.count, a.last = map[string]time.Time{}, map[string]int{}, time.Time{}
}

func (a *arrivals) snapshot() (map[string]time.Time, map[string]int, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.first), maps.Clone(a.count), a.last
}

// waitFor waits until n distinct ids arrived, for at most patience.
func (a *arrivals) waitFor(ctx context.Context, n int, patience time.Duration) {
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		a.mu.Lock()
		done := len(a.first) >= n
		a.mu.Unlock()
		if done {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type rawHandler struct {
	got       *arrivals
	ready     chan struct{}
	readyOnce sync.Once
}

func (h *rawHandler) Setup(sarama.ConsumerGroupSession) error {
	h.readyOnce.Do(func() { close(h.ready) })
	return nil
}

func (h *rawHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *rawHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		for _, hd := range m.Headers {
			if string(hd.Key) == "ce_id" {
				h.got.arrived(string(hd.Value))
			}
		}
		sess.MarkMessage(m, "")
	}
	return nil
}

func waitReady(ctx context.Context, ready <-chan struct{}, what string) error {
	select {
	case <-ready:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s got no partitions within 30 s", what)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func createTopic(admin sarama.ClusterAdmin, topic string) error {
	err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: backing.KafkaPartitions, ReplicationFactor: 1}, false)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// The raw path's sarama settings are the data plane's own (acks=all,
// idempotent producer, read_committed consumer, protocol 2.8), as
// infra/local/eventing/internal/kafkaconf/kafkaconf.go sets them, so the
// floor differs from the hop only by the hop.
func hopSaramaConfig(clientID string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = clientID
	c.Version = sarama.V2_8_0_0
	return c
}

func hopProducerConfig() *sarama.Config {
	c := hopSaramaConfig("bench-hop-raw-producer")
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Idempotent = true
	c.Net.MaxOpenRequests = 1
	c.Producer.Return.Successes = true
	return c
}

func hopConsumerConfig() *sarama.Config {
	c := hopSaramaConfig("bench-hop-raw-consumer")
	c.Consumer.IsolationLevel = sarama.ReadCommitted
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	return c
}

// serveLoopback serves h on a free loopback port.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
