package deadletter

import (
	"context"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkatest"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasink"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
	"github.com/tidings-dev/tidings/infra/testenv"
)

const (
	usersTopic = "tidings.users"
	dlqTopic   = "tidings.dlq.welcome"
	signedUp   = "dev.tidings.user.signedup.v1"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// subscriber answers with the current status and remembers the ids it saw.
type subscriber struct {
	mu     sync.Mutex
	status int
	body   string
	ids    []string
}

func (s *subscriber) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, r.Header.Get("Ce-Id"))
	w.WriteHeader(s.status)
	io.WriteString(w, s.body)
}

func (s *subscriber) set(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *subscriber) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ids...)
}

// The whole loop the way the local stack wires it: KafkaSink ingress →
// users topic → KafkaSource → failing subscriber → dead-letter KafkaSink →
// DLQ topic → List → Replay → users topic → KafkaSource → subscriber.
func TestDeadLetterListAndReplayRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := kafkatest.Start(t, 2, usersTopic, dlqTopic)

	ingress, err := kafkasink.NewIngress(kafkasink.Config{Brokers: b.Brokers(), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer ingress.Close()
	ingress.Register("tidings", "users", usersTopic, "binary")
	ingress.Register("tidings", "dlq-welcome", dlqTopic, "binary")
	sinkSrv := httptest.NewServer(ingress)
	defer sinkSrv.Close()

	sub := &subscriber{status: http.StatusUnprocessableEntity, body: `{"title":"bad schema","detail":"email is required"}`}
	subSrv := httptest.NewServer(sub)
	defer subSrv.Close()

	srcCfg := kafkasource.Config{
		Name: "welcome", Namespace: "tidings", Brokers: b.Brokers(), Topics: []string{usersTopic},
		ConsumerGroup: "tidings-welcome", InitialOffset: kafkasource.OffsetEarliest, Ordering: kafkasource.OrderingUnordered,
		SubscriberURL: subSrv.URL,
		Delivery: kafkasource.Delivery{Retry: 2, BackoffDelay: time.Millisecond, Timeout: 5 * time.Second,
			DeadLetterURL: sinkSrv.URL + "/tidings/dlq-welcome"},
		Logger: quiet(),
	}
	src, err := kafkasource.Start(ctx, srcCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	for _, id := range []string{"signup-1", "signup-2"} {
		req, _ := http.NewRequest(http.MethodPost, sinkSrv.URL+"/tidings/users", strings.NewReader(`{"userId":"u-5"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", id)
		req.Header.Set("Ce-Type", signedUp)
		req.Header.Set("Ce-Source", "/tidings/signup")
		req.Header.Set("Ce-Partitionkey", "u-5")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingress answered %d", resp.StatusCode)
		}
	}
	testenv.Eventually(t, 30*time.Second, "both events dead-lettered", func() bool { return src.Stats().DeadLettered == 2 })
	if n := len(sub.seen()); n != 2 {
		t.Errorf("422 is not retryable: subscriber saw %d attempts for 2 events, want 2", n)
	}

	letters, err := List(ctx, b.Brokers(), kafkaauth.Credentials{}, dlqTopic)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 2 {
		t.Fatalf("listed %d letters, want 2", len(letters))
	}
	for _, l := range letters {
		if l.Code != http.StatusUnprocessableEntity || l.Reason != sub.body || l.Dest != subSrv.URL || l.Key != "u-5" {
			t.Errorf("letter %s: code %d reason %q dest %q key %q", l.Ref(), l.Code, l.Reason, l.Dest, l.Key)
		}
		if l.Event.Type() != signedUp || l.Event.Source() != "/tidings/signup" || string(l.Event.Data()) != `{"userId":"u-5"}` {
			t.Errorf("letter %s lost the original event: %s", l.Ref(), l.Event)
		}
	}

	// Replay only signup-2, once the subscriber is fixed.
	chosen, err := Select(letters, "signup-2")
	if err != nil || len(chosen) != 1 {
		t.Fatalf("select: %v (%d letters)", err, len(chosen))
	}
	sub.set(http.StatusOK, "")
	if err := Replay(ctx, b.Brokers(), kafkaauth.Credentials{}, chosen, TopicByType(map[string]string{signedUp: usersTopic})); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the replayed event delivered", func() bool { return src.Stats().Delivered == 1 })
	if got := sub.seen(); got[len(got)-1] != "signup-2" {
		t.Errorf("subscriber got %v, want signup-2 last", got)
	}

	// On the wire the replayed record is the original event again.
	var copies []*kgo.Record
	for _, r := range b.Read(usersTopic, 3, 10*time.Second) {
		if id, _ := kafkatest.Header(r, "ce_id"); id == "signup-2" {
			copies = append(copies, r)
		}
	}
	if len(copies) != 2 {
		t.Fatalf("%d records of signup-2 on %s, want the original and the replay", len(copies), usersTopic)
	}
	replayed := copies[1]
	if string(replayed.Key) != "u-5" {
		t.Fatalf("replayed record %v, want key u-5", replayed)
	}
	for _, h := range replayed.Headers {
		if strings.HasPrefix(h.Key, "ce_knativeerror") {
			t.Errorf("replayed record still carries %s", h.Key)
		}
	}
	if src, _ := kafkatest.Header(replayed, "ce_source"); src != "/tidings/signup" {
		t.Errorf("replayed source %q", src)
	}
}

func TestListMissingTopicIsEmptyAndDoesNotCreateIt(t *testing.T) {
	b := kafkatest.Start(t, 1)
	letters, err := List(context.Background(), b.Brokers(), kafkaauth.Credentials{}, "tidings.dlq.nothing")
	if err != nil || len(letters) != 0 {
		t.Fatalf("letters %v err %v, want none", letters, err)
	}
	if info := b.Cluster().PartitionInfo("tidings.dlq.nothing", 0); info != nil {
		t.Error("listing created the topic")
	}
}

func TestListKeepsUndecodableRecordsButRefusesToReplayThem(t *testing.T) {
	b := kafkatest.Start(t, 1, dlqTopic)
	b.Produce(context.Background(), &kgo.Record{Topic: dlqTopic, Value: []byte("garbage")})
	letters, err := List(context.Background(), b.Brokers(), kafkaauth.Credentials{}, dlqTopic)
	if err != nil || len(letters) != 1 {
		t.Fatalf("letters %v err %v", letters, err)
	}
	if letters[0].DecodeErr == "" {
		t.Error("garbage record decoded as a CloudEvent")
	}
	err = Replay(context.Background(), b.Brokers(), kafkaauth.Credentials{}, letters, func(event.Event) string { return usersTopic })
	if err == nil {
		t.Error("replayed a record that is not a CloudEvent")
	}
}

func TestReplayNeedsATargetTopic(t *testing.T) {
	ev := event.New()
	ev.SetID("x")
	ev.SetType("unknown.type")
	ev.SetSource("/s")
	err := Replay(context.Background(), []string{"127.0.0.1:1"}, kafkaauth.Credentials{}, []Letter{{Event: ev}}, TopicByType(nil))
	if err == nil || !strings.Contains(err.Error(), "no target topic") {
		t.Errorf("err %v, want no target topic", err)
	}
}

func TestSelect(t *testing.T) {
	mk := func(p int32, o int64, id string) Letter {
		ev := event.New()
		ev.SetID(id)
		return Letter{Partition: p, Offset: o, Event: ev}
	}
	letters := []Letter{mk(0, 0, "a"), mk(0, 1, "b"), mk(1, 0, "c")}
	for _, c := range []struct {
		sel  []string
		want string
	}{
		{nil, "abc"},
		{[]string{"all"}, "abc"},
		{[]string{"b"}, "b"},
		{[]string{"1:0", "a"}, "ca"},
	} {
		got, err := Select(letters, c.sel...)
		if err != nil {
			t.Fatal(err)
		}
		ids := ""
		for _, l := range got {
			ids += l.Event.ID()
		}
		if ids != c.want {
			t.Errorf("select %v = %s, want %s", c.sel, ids, c.want)
		}
	}
	if _, err := Select(letters, "zzz"); err == nil {
		t.Error("unknown selector accepted")
	}
}
