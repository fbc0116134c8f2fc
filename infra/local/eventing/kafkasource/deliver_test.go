package kafkasource

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/tidings-dev/tidings/infra/testenv"
)

// offlineDispatcher is a Dispatcher without Kafka: dispatch is called
// directly with records, and delivery goes over real HTTP.
func offlineDispatcher(t *testing.T, subscriber string, d Delivery) *Dispatcher {
	t.Helper()
	cfg, err := withDefaults(Config{
		Name: "welcome", Namespace: "tidings", Brokers: []string{"unused:9092"}, Topics: []string{"tidings.users"},
		ConsumerGroup: "g", SubscriberURL: subscriber, Delivery: d, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Dispatcher{cfg: cfg, log: cfg.Logger, client: newHTTPClient(cfg.MaxInFlight)}
}

func binaryRecord(id string) *sarama.ConsumerMessage {
	return &sarama.ConsumerMessage{
		Topic: "tidings.users", Partition: 2, Offset: 17, Key: []byte("u-1"),
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Value:     []byte(`{"userId":"u-1"}`),
		Headers: []*sarama.RecordHeader{
			{Key: []byte("ce_specversion"), Value: []byte("1.0")},
			{Key: []byte("ce_id"), Value: []byte(id)},
			{Key: []byte("ce_type"), Value: []byte("dev.tidings.user.signedup.v1")},
			{Key: []byte("ce_source"), Value: []byte("/tidings/signup")},
			{Key: []byte("ce_partitionkey"), Value: []byte("u-1")},
			{Key: []byte("content-type"), Value: []byte("application/json")},
		},
	}
}

func TestRetryableStatusCodes(t *testing.T) {
	cases := []struct {
		status    int
		retryable bool
	}{
		{500, true}, {502, true}, {503, true}, {504, true},
		{404, true}, {408, true}, {409, true}, {429, true},
		{400, false}, {401, false}, {403, false}, {410, false}, {413, false}, {422, false},
		{302, false}, {307, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			sub := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(c.status)
			})
			dls := newEndpoint(t, status(http.StatusAccepted))
			d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 2, BackoffDelay: time.Millisecond, DeadLetterURL: dls.srv.URL})
			if !d.dispatch(context.Background(), binaryRecord("e1")) {
				t.Fatal("dispatch abandoned the record")
			}
			want := 1
			if c.retryable {
				want = 3
			}
			if got := sub.count(); got != want {
				t.Errorf("subscriber saw %d attempts, want %d", got, want)
			}
			if dls.count() != 1 {
				t.Errorf("dead-letter sink got %d events, want 1", dls.count())
			}
			if got := dls.got()[0].header.Get("Ce-Knativeerrorcode"); got != fmt.Sprint(c.status) {
				t.Errorf("knativeerrorcode %q, want %d", got, c.status)
			}
			s := d.Stats()
			if s.Attempts != int64(want) || s.Retried != int64(want-1) || s.DeadLettered != 1 || s.Delivered != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestSuccessIsAnyTwoHundred(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204} {
		sub := newEndpoint(t, status(code))
		d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 3, BackoffDelay: time.Millisecond})
		if !d.dispatch(context.Background(), binaryRecord("ok")) {
			t.Fatal("abandoned")
		}
		if sub.count() != 1 || d.Stats().Delivered != 1 {
			t.Errorf("status %d: %d attempts, stats %+v; want 1 attempt delivered", code, sub.count(), d.Stats())
		}
	}
}

func TestDeliveryIsBinaryWithKnativeHeadersAndEventUnchanged(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusOK))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{})
	d.dispatch(context.Background(), binaryRecord("e-bin"))

	r := sub.got()[0]
	for h, want := range map[string]string{
		"Ce-Specversion":  "1.0",
		"Ce-Id":           "e-bin",
		"Ce-Type":         "dev.tidings.user.signedup.v1",
		"Ce-Source":       "/tidings/signup",
		"Ce-Partitionkey": "u-1",
		"Content-Type":    "application/json",
		"Prefer":          "reply",
		"Kn-Namespace":    "tidings",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	for h := range r.header {
		if strings.HasPrefix(strings.ToLower(h), "ce-kafka") {
			t.Errorf("unexpected header %s: Knative forwards the event unchanged", h)
		}
	}
	if string(r.body) != `{"userId":"u-1"}` {
		t.Errorf("body %q", r.body)
	}
}

func TestStructuredRecordIsForwardedInBinaryMode(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusOK))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{})
	m := &sarama.ConsumerMessage{
		Topic: "tidings.users",
		Value: []byte(`{"specversion":"1.0","id":"e-str","type":"t.v1","source":"/s","datacontenttype":"application/json","data":{"a":1}}`),
		Headers: []*sarama.RecordHeader{
			{Key: []byte("content-type"), Value: []byte("application/cloudevents+json")},
		},
	}
	d.dispatch(context.Background(), m)
	r := sub.got()[0]
	if r.header.Get("Ce-Id") != "e-str" || r.header.Get("Content-Type") != "application/json" || string(r.body) != `{"a":1}` {
		t.Errorf("got headers %v body %q; want binary mode of e-str", r.header, r.body)
	}
	if d.Stats().Wrapped != 0 {
		t.Error("a structured CloudEvent was wrapped")
	}
}

func TestNonCloudEventRecordIsWrapped(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusOK))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{})
	ts := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	m := &sarama.ConsumerMessage{
		Topic: "tidings.users", Partition: 3, Offset: 41, Key: []byte("u-9"), Timestamp: ts,
		Value: []byte(`{"legacy":true}`),
		Headers: []*sarama.RecordHeader{
			{Key: []byte("Content-Type"), Value: []byte("Application/JSON")},
			{Key: []byte("X-Trace_Id"), Value: []byte("abc")},
		},
	}
	d.dispatch(context.Background(), m)
	r := sub.got()[0]
	for h, want := range map[string]string{
		"Ce-Type":                "dev.knative.kafka.event",
		"Ce-Source":              "/apis/v1/namespaces/tidings/kafkasources/welcome#tidings.users",
		"Ce-Subject":             "partition:3#41",
		"Ce-Id":                  "partition:3/offset:41",
		"Ce-Time":                "2026-05-06T07:08:09Z",
		"Ce-Partitionkey":        "u-9",
		"Ce-Key":                 "u-9",
		"Ce-Kafkaheaderxtraceid": "abc",
		"Content-Type":           "application/json",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if string(r.body) != `{"legacy":true}` {
		t.Errorf("body %q", r.body)
	}
	if d.Stats().Wrapped != 1 {
		t.Errorf("wrapped count %d", d.Stats().Wrapped)
	}

	// A record with CloudEvents headers that break the spec is wrapped too.
	bad := binaryRecord("")
	d.dispatch(context.Background(), bad)
	if got := sub.got()[1].header.Get("Ce-Type"); got != "dev.knative.kafka.event" {
		t.Errorf("record with empty ce_id delivered as %q, want wrapped", got)
	}
}

func TestDeadLetterCarriesKnativeErrorExtensions(t *testing.T) {
	long := strings.Repeat("x", 3000)
	sub := newEndpoint(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Kne-Reason", "smtp-down")
		w.Header().Set("Kne-Bad_Name", "dropped")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "SMTP unavailable: "+long)
	})
	dls := newEndpoint(t, status(http.StatusAccepted))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 1, BackoffDelay: time.Millisecond, DeadLetterURL: dls.srv.URL})
	d.dispatch(context.Background(), binaryRecord("e-dead"))

	if dls.count() != 1 {
		t.Fatalf("dead-letter sink got %d events", dls.count())
	}
	h := dls.got()[0].header
	if h.Get("Ce-Id") != "e-dead" || h.Get("Ce-Source") != "/tidings/signup" || h.Get("Ce-Partitionkey") != "u-1" {
		t.Errorf("dead letter lost the original attributes: %v", h)
	}
	if h.Get("Ce-Knativeerrordest") != sub.srv.URL {
		t.Errorf("knativeerrordest %q, want %q", h.Get("Ce-Knativeerrordest"), sub.srv.URL)
	}
	if h.Get("Ce-Knativeerrorcode") != "503" {
		t.Errorf("knativeerrorcode %q", h.Get("Ce-Knativeerrorcode"))
	}
	data, err := base64.StdEncoding.DecodeString(h.Get("Ce-Knativeerrordata"))
	if err != nil {
		t.Fatalf("knativeerrordata is not base64: %v", err)
	}
	if len(data) != 1024 || !strings.HasPrefix(string(data), "SMTP unavailable: xxx") {
		t.Errorf("knativeerrordata is %d bytes starting %q; want the first 1024 bytes of the body", len(data), data[:min(len(data), 30)])
	}
	if h.Get("Ce-Reason") != "smtp-down" {
		t.Errorf("kne-reason header not carried as extension reason: %v", h)
	}
	for _, absent := range []string{"Ce-Knativeerrortopic", "Ce-Knativeerrorpartition", "Ce-Knativeerroroffset", "Ce-Bad_name"} {
		if h.Get(absent) != "" {
			t.Errorf("unexpected %s (Knative does not add it)", absent)
		}
	}
	if string(dls.got()[0].body) != `{"userId":"u-1"}` {
		t.Errorf("dead letter body %q", dls.got()[0].body)
	}
}

func TestConnectionErrorsAndTimeoutsAreRetriedWithoutCode(t *testing.T) {
	dls := newEndpoint(t, status(http.StatusAccepted))

	closed := newEndpoint(t, nil)
	closedURL := closed.srv.URL
	closed.srv.Close()
	d := offlineDispatcher(t, closedURL, Delivery{Retry: 2, BackoffDelay: time.Millisecond, DeadLetterURL: dls.srv.URL})
	d.dispatch(context.Background(), binaryRecord("refused"))
	if s := d.Stats(); s.Attempts != 3 || s.DeadLettered != 1 {
		t.Errorf("connection refused: stats %+v, want 3 attempts then dead-lettered", s)
	}

	release := make(chan struct{})
	defer close(release)
	slow := newEndpoint(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	d = offlineDispatcher(t, slow.srv.URL, Delivery{Retry: 1, BackoffDelay: time.Millisecond, Timeout: 50 * time.Millisecond, DeadLetterURL: dls.srv.URL})
	d.dispatch(context.Background(), binaryRecord("slow"))
	testenv.Eventually(t, 5*time.Second, "both timed-out attempts to reach the server", func() bool { return slow.count() == 2 })
	if s := d.Stats(); s.Attempts != 2 || s.DeadLettered != 1 {
		t.Errorf("timeout: stats %+v, want 2 attempts then dead-lettered", s)
	}

	for i, r := range dls.got() {
		if r.header.Get("Ce-Knativeerrordest") == "" || r.header.Get("Ce-Knativeerrorcode") != "" {
			t.Errorf("dead letter %d: want knativeerrordest and no knativeerrorcode without a response, got %v", i, r.header)
		}
	}
}

func TestRetryCountIsHonoured(t *testing.T) {
	for _, retry := range []int{0, 1, 5} {
		for _, policy := range []string{BackoffLinear, BackoffExponential} {
			sub := newEndpoint(t, status(http.StatusInternalServerError))
			d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: retry, BackoffPolicy: policy, BackoffDelay: time.Millisecond})
			d.dispatch(context.Background(), binaryRecord("r"))
			if sub.count() != retry+1 {
				t.Errorf("retry %d %s: %d attempts, want %d", retry, policy, sub.count(), retry+1)
			}
		}
	}
}

func TestDeadLetterSinkFailureIsRetriedThenCommitted(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusBadRequest))
	dls := newEndpoint(t, status(http.StatusServiceUnavailable))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 1, BackoffDelay: time.Millisecond, DeadLetterURL: dls.srv.URL})
	if !d.dispatch(context.Background(), binaryRecord("lost")) {
		t.Fatal("a record whose dead-lettering failed must still be committed, as Knative does")
	}
	if dls.count() != 1+minDeadLetterRetries {
		t.Errorf("dead-letter sink saw %d attempts, want %d", dls.count(), 1+minDeadLetterRetries)
	}
	if s := d.Stats(); s.Dropped != 1 || s.DeadLettered != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestNoDeadLetterSinkDropsAndCommits(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusUnprocessableEntity))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 3})
	if !d.dispatch(context.Background(), binaryRecord("x")) {
		t.Fatal("abandoned")
	}
	if s := d.Stats(); s.Dropped != 1 || s.Attempts != 1 {
		t.Errorf("stats %+v, want one attempt then dropped", s)
	}
}

func TestShutdownDuringRetriesAbandonsTheRecord(t *testing.T) {
	sub := newEndpoint(t, status(http.StatusServiceUnavailable))
	dls := newEndpoint(t, status(http.StatusAccepted))
	d := offlineDispatcher(t, sub.srv.URL, Delivery{Retry: 100, BackoffPolicy: BackoffLinear, BackoffDelay: 20 * time.Millisecond, DeadLetterURL: dls.srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- d.dispatch(ctx, binaryRecord("x")) }()
	testenv.Eventually(t, 5*time.Second, "a retry", func() bool { return sub.count() >= 2 })
	cancel()
	select {
	case finished := <-done:
		if finished {
			t.Error("dispatch reported an abandoned record as finished")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dispatch did not stop after cancel")
	}
	if dls.count() != 0 {
		t.Error("abandoned record was dead-lettered")
	}
}

func TestConfigValidation(t *testing.T) {
	good := Config{Name: "n", Namespace: "ns", Brokers: []string{"b"}, Topics: []string{"t"}, ConsumerGroup: "g", SubscriberURL: "http://x"}
	cfg, err := withDefaults(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InitialOffset != OffsetLatest || cfg.Ordering != OrderingOrdered || cfg.Delivery.BackoffPolicy != BackoffExponential ||
		cfg.Delivery.Timeout != DefaultTimeout || cfg.MaxInFlight != DefaultMaxInFlight {
		t.Errorf("defaults %+v", cfg)
	}
	bad := []func(*Config){
		func(c *Config) { c.Name = "" },
		func(c *Config) { c.Topics = nil },
		func(c *Config) { c.Brokers = nil },
		func(c *Config) { c.ConsumerGroup = "" },
		func(c *Config) { c.SubscriberURL = "" },
		func(c *Config) { c.InitialOffset = "oldest" },
		func(c *Config) { c.Ordering = "random" },
		func(c *Config) { c.Delivery.BackoffPolicy = "fibonacci" },
		func(c *Config) { c.Delivery.Retry = -1 },
	}
	for i, mutate := range bad {
		c := good
		mutate(&c)
		if _, err := withDefaults(c); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}

func TestOffsetTrackerMarksOnlyContiguousPrefix(t *testing.T) {
	var tr offsetTracker
	var marks []int64
	mark := func(next int64) { marks = append(marks, next) }
	for o := int64(10); o < 15; o++ {
		tr.begin(o)
	}
	tr.finish(12, mark)
	tr.finish(11, mark)
	if len(marks) != 0 {
		t.Fatalf("marked %v while offset 10 is unfinished", marks)
	}
	tr.finish(10, mark)
	tr.finish(14, mark)
	tr.finish(13, mark)
	if fmt.Sprint(marks) != "[13 15]" {
		t.Errorf("marks %v, want [13 15]", marks)
	}
}
