package kafkasource

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkatest"
	"github.com/tidings-dev/tidings/infra/testenv"
)

const topic = "tidings.users"

func sourceConfig(b *kafkatest.Broker, group, subscriber string) Config {
	return Config{
		Name: "welcome", Namespace: "tidings", Brokers: b.Brokers(), Topics: []string{topic},
		ConsumerGroup: group, InitialOffset: OffsetEarliest, SubscriberURL: subscriber,
		Delivery: Delivery{Retry: 2, BackoffDelay: time.Millisecond, Timeout: 5 * time.Second},
		Logger:   quietLogger(),
	}
}

func start(t *testing.T, cfg Config) *Dispatcher {
	t.Helper()
	d, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	select {
	case <-d.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("dispatcher never got its partitions")
	}
	return d
}

// produceEvents writes binary-mode CloudEvents with ids prefix-0.. to the
// given partition.
func produceEvents(t *testing.T, b *kafkatest.Broker, partition int32, prefix string, n int) []string {
	t.Helper()
	cl := b.Client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		ids = append(ids, id)
		r := &kgo.Record{
			Topic: topic, Partition: partition, Key: []byte("u-1"), Value: []byte(`{"n":` + fmt.Sprint(i) + `}`),
			Headers: []kgo.RecordHeader{
				{Key: "ce_specversion", Value: []byte("1.0")},
				{Key: "ce_id", Value: []byte(id)},
				{Key: "ce_type", Value: []byte("dev.tidings.user.signedup.v1")},
				{Key: "ce_source", Value: []byte("/tidings/signup")},
				{Key: "content-type", Value: []byte("application/json")},
			},
		}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestSourceDeliversFromKafka(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	sub := newEndpoint(t, status(http.StatusAccepted))
	want := produceEvents(t, b, 0, "ok", 3)
	// A record that is not a CloudEvent, written by some other producer.
	b.Produce(context.Background(), &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("plain text")})

	d := start(t, sourceConfig(b, "g-deliver", sub.srv.URL))
	testenv.Eventually(t, 20*time.Second, "4 deliveries", func() bool { return sub.count() == 4 })
	got := sub.ids()
	if fmt.Sprint(got[:3]) != fmt.Sprint(want) || got[3] != "partition:0/offset:3" {
		t.Errorf("delivered %v, want %v then the wrapped record", got, want)
	}
	if s := d.Stats(); s.Delivered != 4 || s.Wrapped != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestSourceDeadLettersThroughKafkaPipeline(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	sub := newEndpoint(t, status(http.StatusInternalServerError))
	dls := newEndpoint(t, status(http.StatusAccepted))
	produceEvents(t, b, 0, "fail", 1)
	cfg := sourceConfig(b, "g-dead", sub.srv.URL)
	cfg.Delivery.Retry = 3
	cfg.Delivery.DeadLetterURL = dls.srv.URL
	d := start(t, cfg)
	testenv.Eventually(t, 20*time.Second, "the dead letter", func() bool { return dls.count() == 1 })
	if sub.count() != 4 {
		t.Errorf("subscriber saw %d attempts, want 4", sub.count())
	}
	if s := d.Stats(); s.Retried != 3 || s.DeadLettered != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestOrderedIsSequentialPerPartition(t *testing.T) {
	b := kafkatest.Start(t, 2, topic)
	// Count overlap per partition from the event ids (p0-*, p1-*).
	var mu sync.Mutex
	inFlight := map[string]int{}
	maxPer := map[string]int{}
	tracking := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		p := r.Header.Get("Ce-Id")[:2]
		mu.Lock()
		inFlight[p]++
		maxPer[p] = max(maxPer[p], inFlight[p])
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // widen the window for overlap
		w.WriteHeader(http.StatusOK)
		mu.Lock()
		inFlight[p]--
		mu.Unlock()
	})
	want0 := produceEvents(t, b, 0, "p0", 15)
	want1 := produceEvents(t, b, 1, "p1", 15)
	cfg := sourceConfig(b, "g-ordered", tracking.srv.URL)
	cfg.Ordering = OrderingOrdered
	start(t, cfg)
	testenv.Eventually(t, 30*time.Second, "30 deliveries", func() bool { return tracking.count() == 30 })

	var got0, got1 []string
	for _, id := range tracking.ids() {
		if id[1] == '0' {
			got0 = append(got0, id)
		} else {
			got1 = append(got1, id)
		}
	}
	if fmt.Sprint(got0) != fmt.Sprint(want0) || fmt.Sprint(got1) != fmt.Sprint(want1) {
		t.Errorf("per-partition order broken:\n p0 %v\n p1 %v", got0, got1)
	}
	mu.Lock()
	defer mu.Unlock()
	if maxPer["p0"] != 1 || maxPer["p1"] != 1 {
		t.Errorf("max in flight per partition %v, want 1 each", maxPer)
	}
}

func TestOrderedWaitsForRetriesBeforeNextRecord(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	sub := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Ce-Id") == "o-0" && n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	produceEvents(t, b, 0, "o", 2)
	start(t, sourceConfig(b, "g-ordered-retry", sub.srv.URL))
	testenv.Eventually(t, 20*time.Second, "4 requests", func() bool { return sub.count() == 4 })
	if got := fmt.Sprint(sub.ids()); got != "[o-0 o-0 o-0 o-1]" {
		t.Errorf("requests %s: o-1 must wait until o-0 succeeded", got)
	}
}

func TestUnorderedRunsInParallel(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	const want = 8
	var once sync.Once
	enough := make(chan struct{})
	var sub *endpoint
	sub = newEndpoint(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if sub.inFlight.Load() >= want {
			once.Do(func() { close(enough) })
		}
		// Hold each request until `want` are in flight together (or give up).
		select {
		case <-enough:
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	})
	produceEvents(t, b, 0, "u", 20)
	cfg := sourceConfig(b, "g-unordered", sub.srv.URL)
	cfg.Ordering = OrderingUnordered
	d := start(t, cfg)
	testenv.Eventually(t, 30*time.Second, "20 deliveries", func() bool { return d.Stats().Delivered == 20 })
	if got := sub.maxInFlight.Load(); got < want {
		t.Errorf("max concurrent deliveries on one partition %d, want at least %d", got, want)
	}
}

func TestUnorderedRespectsMaxInFlight(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	sub := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(10 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	})
	produceEvents(t, b, 0, "m", 30)
	cfg := sourceConfig(b, "g-maxinflight", sub.srv.URL)
	cfg.Ordering = OrderingUnordered
	cfg.MaxInFlight = 3
	d := start(t, cfg)
	testenv.Eventually(t, 30*time.Second, "30 deliveries", func() bool { return d.Stats().Delivered == 30 })
	if got := sub.maxInFlight.Load(); got > 3 {
		t.Errorf("max in flight %d exceeds MaxInFlight 3", got)
	}
}

// The cap is per source, not per partition: four busy partitions still
// share MaxInFlight deliveries, as one consumer verticle's max.poll.records.
func TestUnorderedMaxInFlightIsPerSourceNotPerPartition(t *testing.T) {
	const partitions, perPartition, limit = 4, 10, 3
	b := kafkatest.Start(t, partitions, topic)
	sub := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		time.Sleep(30 * time.Millisecond) // long enough for every partition to pile in
		w.WriteHeader(http.StatusOK)
	})
	for p := range int32(partitions) {
		produceEvents(t, b, p, fmt.Sprintf("p%d", p), perPartition)
	}
	cfg := sourceConfig(b, "g-persource", sub.srv.URL)
	cfg.Ordering = OrderingUnordered
	cfg.MaxInFlight = limit
	d := start(t, cfg)
	testenv.Eventually(t, 30*time.Second, "every delivery", func() bool { return d.Stats().Delivered == partitions*perPartition })
	if got := sub.maxInFlight.Load(); got > limit {
		t.Errorf("max in flight across %d partitions = %d, want at most %d for the source", partitions, got, limit)
	}
}

// A record that was never finished must come back after a restart with the
// same group; a record that was delivered must not.
func TestOrderedOffsetsNotCommittedBeforeSuccess(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	down := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Ce-Id") == "c-0" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	produceEvents(t, b, 0, "c", 2)
	cfg := sourceConfig(b, "g-crash", down.srv.URL)
	cfg.Delivery.Retry = 1000
	cfg.Delivery.BackoffPolicy = BackoffLinear
	cfg.Delivery.BackoffDelay = 10 * time.Millisecond
	first := start(t, cfg)
	testenv.Eventually(t, 20*time.Second, "c-1 to be retried", func() bool { return first.Stats().Retried >= 2 })
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	up := newEndpoint(t, status(http.StatusOK))
	cfg.SubscriberURL = up.srv.URL
	second := start(t, cfg)
	testenv.Eventually(t, 20*time.Second, "c-1 to be redelivered", func() bool { return second.Stats().Delivered >= 1 })
	time.Sleep(300 * time.Millisecond) // give a wrongly redelivered c-0 the chance to show up
	if got := fmt.Sprint(up.ids()); got != "[c-1]" {
		t.Errorf("after restart the subscriber got %s, want only [c-1]", got)
	}
}

func TestUnorderedCommitsOnlyBelowOldestUnfinished(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	release := make(chan struct{})
	stuck := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Ce-Id") == "h-0" {
			select { // hang on h-0 until the dispatcher gives up on it
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	defer close(release)
	produceEvents(t, b, 0, "h", 5)
	cfg := sourceConfig(b, "g-unordered-crash", stuck.srv.URL)
	cfg.Ordering = OrderingUnordered
	first := start(t, cfg)
	testenv.Eventually(t, 20*time.Second, "h-1..h-4 delivered", func() bool { return first.Stats().Delivered == 4 })
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	up := newEndpoint(t, status(http.StatusOK))
	cfg.SubscriberURL = up.srv.URL
	second := start(t, cfg)
	// Offsets 1-4 finished but 0 did not, so nothing past 0 was committed and
	// all five come back (at-least-once: duplicates, never loss).
	testenv.Eventually(t, 20*time.Second, "all five redelivered", func() bool { return second.Stats().Delivered == 5 })
	seen := map[string]bool{}
	for _, id := range up.ids() {
		seen[id] = true
	}
	if !seen["h-0"] || len(seen) != 5 {
		t.Errorf("redelivered %v, want h-0..h-4", up.ids())
	}
}

func TestLatestSkipsOldRecords(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	sub := newEndpoint(t, status(http.StatusOK))
	produceEvents(t, b, 0, "old", 2)
	cfg := sourceConfig(b, "g-latest", sub.srv.URL)
	cfg.InitialOffset = OffsetLatest
	d := start(t, cfg)
	// Ready means partitions are assigned; the claim fetches the newest
	// offset just after, so keep producing until something arrives.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; d.Stats().Delivered == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered")
		}
		produceEvents(t, b, 0, fmt.Sprintf("new%d", i), 1)
		time.Sleep(100 * time.Millisecond)
	}
	for _, id := range sub.ids() {
		if id[:3] == "old" {
			t.Errorf("latest delivered old record %s", id)
		}
	}
}

func TestStartFailsWithoutKafka(t *testing.T) {
	b := kafkatest.Start(t, 1, topic)
	cfg := sourceConfig(b, "g", "http://127.0.0.1:1")
	b.Stop()
	if d, err := Start(context.Background(), cfg); err == nil {
		d.Close()
		t.Fatal("Start succeeded with no broker")
	}
}
