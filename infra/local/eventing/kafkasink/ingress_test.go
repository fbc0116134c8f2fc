package kafkasink

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/tidings-dev/tidings/infra/local/eventing/internal/kafkatest"
)

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newIngress(t *testing.T, brokers []string) (*Ingress, *httptest.Server) {
	t.Helper()
	in, err := NewIngress(Config{Brokers: brokers, Logger: quietLogger(), ProduceTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	if err := in.Register("tidings", "users", "tidings.users", "binary"); err != nil {
		t.Fatal(err)
	}
	if err := in.Register("tidings", "structured", "tidings.structured", "structured"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	return in, srv
}

func binaryRequest(t *testing.T, url, id string, extra map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"userId":"u-42","email":"a@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", id)
	req.Header.Set("Ce-Type", "dev.tidings.user.signedup.v1")
	req.Header.Set("Ce-Source", "/tidings/signup")
	req.Header.Set("Ce-Partitionkey", "u-42")
	for k, v := range extra {
		req.Header.Set(k, v)
	}
	return req
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestBinaryEventIsProducedInBinaryModeWithPartitionKey(t *testing.T) {
	b := kafkatest.Start(t, 3, "tidings.users")
	_, srv := newIngress(t, b.Brokers())

	code, body := do(t, binaryRequest(t, srv.URL+"/tidings/users", "evt-1", nil))
	if code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", code, body)
	}
	recs := b.Read("tidings.users", 1, 10*time.Second)
	r := recs[0]
	if string(r.Key) != "u-42" {
		t.Errorf("record key %q, want partitionkey u-42", r.Key)
	}
	for k, want := range map[string]string{
		"ce_specversion": "1.0",
		"ce_id":          "evt-1",
		"ce_type":        "dev.tidings.user.signedup.v1",
		"ce_source":      "/tidings/signup",
		"content-type":   "application/json",
	} {
		if got, ok := kafkatest.Header(r, k); !ok || got != want {
			t.Errorf("header %s = %q (present %v), want %q", k, got, ok, want)
		}
	}
	var payload map[string]string
	if err := json.Unmarshal(r.Value, &payload); err != nil || payload["userId"] != "u-42" {
		t.Errorf("value %q is not the JSON body (err %v)", r.Value, err)
	}
}

func TestStructuredRequestIsAcceptedAndStoredBinary(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	_, srv := newIngress(t, b.Brokers())

	ce := `{"specversion":"1.0","id":"evt-s","type":"dev.tidings.user.signedup.v1","source":"/tidings/signup",
	        "partitionkey":"u-7","datacontenttype":"application/json","data":{"userId":"u-7"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/tidings/users", strings.NewReader(ce))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	if code, body := do(t, req); code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", code, body)
	}
	r := b.Read("tidings.users", 1, 10*time.Second)[0]
	if id, _ := kafkatest.Header(r, "ce_id"); id != "evt-s" {
		t.Errorf("ce_id header %q, want evt-s (binary mode in Kafka)", id)
	}
	if string(r.Key) != "u-7" {
		t.Errorf("key %q, want u-7", r.Key)
	}
	if !bytes.Contains(r.Value, []byte(`"userId":"u-7"`)) || bytes.Contains(r.Value, []byte("specversion")) {
		t.Errorf("value %q should be the bare data", r.Value)
	}
}

func TestStructuredSinkWritesStructuredRecordWithKey(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.structured")
	_, srv := newIngress(t, b.Brokers())

	if code, body := do(t, binaryRequest(t, srv.URL+"/tidings/structured", "evt-2", nil)); code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", code, body)
	}
	r := b.Read("tidings.structured", 1, 10*time.Second)[0]
	if ct, _ := kafkatest.Header(r, "content-type"); ct != "application/cloudevents+json" {
		t.Errorf("content-type %q, want application/cloudevents+json", ct)
	}
	if string(r.Key) != "u-42" {
		t.Errorf("key %q, want u-42", r.Key)
	}
	var env map[string]any
	if err := json.Unmarshal(r.Value, &env); err != nil || env["id"] != "evt-2" {
		t.Errorf("value %q is not a structured CloudEvent (err %v)", r.Value, err)
	}
}

func TestRejections(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	_, srv := newIngress(t, b.Brokers())
	url := srv.URL + "/tidings/users"

	plain, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"hello":"world"}`))
	plain.Header.Set("Content-Type", "application/json")

	missingType := binaryRequest(t, url, "evt-3", nil)
	missingType.Header.Del("Ce-Type")

	badSpec := binaryRequest(t, url, "evt-4", map[string]string{"Ce-Specversion": "0.1"})

	badStructured, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"specversion":"1.0","id":`))
	badStructured.Header.Set("Content-Type", "application/cloudevents+json")

	get, _ := http.NewRequest(http.MethodGet, url, nil)

	huge := binaryRequest(t, url, "evt-5", nil)
	big := bytes.Repeat([]byte("x"), MaxBodyBytes+1)
	huge.Body = io.NopCloser(bytes.NewReader(big))
	huge.ContentLength = int64(len(big))

	hugeChunked := binaryRequest(t, url, "evt-6", nil)
	hugeChunked.Body = io.NopCloser(bytes.NewReader(big))
	hugeChunked.ContentLength = -1 // no Content-Length: the limit must still hold while reading

	// The body fits, but with its headers and the record's framing the
	// record does not.
	almost := binaryRequest(t, url, "evt-9", map[string]string{"Ce-Padding": strings.Repeat("p", 4<<10)})
	almostBody := bytes.Repeat([]byte("x"), MaxBodyBytes-1<<10)
	almost.Body = io.NopCloser(bytes.NewReader(almostBody))
	almost.ContentLength = int64(len(almostBody))

	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"plain JSON is not a CloudEvent", plain, http.StatusBadRequest},
		{"missing type", missingType, http.StatusBadRequest},
		{"unknown specversion", badSpec, http.StatusBadRequest},
		{"broken structured JSON", badStructured, http.StatusBadRequest},
		{"unknown sink", binaryRequest(t, srv.URL+"/tidings/nope", "evt-7", nil), http.StatusNotFound},
		{"too many path segments", binaryRequest(t, srv.URL+"/tidings/users/x", "evt-8", nil), http.StatusNotFound},
		{"GET", get, http.StatusMethodNotAllowed},
		// The receiver cannot produce a record over max.request.size: 503.
		{"over 1 MiB with Content-Length", huge, http.StatusServiceUnavailable},
		{"over 1 MiB chunked", hugeChunked, http.StatusServiceUnavailable},
		{"body under 1 MiB, record over it", almost, http.StatusServiceUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, c.req)
			if code != c.want {
				t.Errorf("status %d (%s), want %d", code, body, c.want)
			}
			if body != "" {
				t.Errorf("body %q; the receiver answers with the status alone", body)
			}
		})
	}

	// Nothing that was rejected may reach the topic: one good event after
	// them must be the first and only record.
	if code, body := do(t, binaryRequest(t, url, "evt-good", nil)); code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202", code, body)
	}
	recs := b.Read("tidings.users", 1, 10*time.Second)
	if id, _ := kafkatest.Header(recs[0], "ce_id"); id != "evt-good" {
		t.Errorf("first record is %q, want evt-good", id)
	}
}

// 1 MiB is the cap, not less: a 900 KiB event goes through.
func TestLargeEventUnderTheRecordLimitIsAccepted(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	_, srv := newIngress(t, b.Brokers())
	req := binaryRequest(t, srv.URL+"/tidings/users", "evt-big", nil)
	payload := []byte(`"` + strings.Repeat("x", 900<<10) + `"`)
	req.Body = io.NopCloser(bytes.NewReader(payload))
	req.ContentLength = int64(len(payload))
	if code, body := do(t, req); code != http.StatusAccepted {
		t.Fatalf("900 KiB event: status %d (%s), want 202", code, body)
	}
	if recs := b.Read("tidings.users", 1, 10*time.Second); len(recs[0].Value) != len(payload) {
		t.Fatalf("record value has %d bytes, want %d", len(recs[0].Value), len(payload))
	}
}

func TestRegisterRejectsBadContentMode(t *testing.T) {
	in, err := NewIngress(Config{Brokers: []string{"127.0.0.1:1"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Register("tidings", "x", "t", "protobuf"); err == nil {
		t.Error("contentMode protobuf accepted")
	}
	if err := in.Register("tidings", "x", "", "binary"); err == nil {
		t.Error("empty topic accepted")
	}
	if _, err := NewIngress(Config{}); err == nil {
		t.Error("NewIngress without brokers accepted")
	}
}

func TestKafkaDownGives503ThenRecovers(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	_, srv := newIngress(t, b.Brokers())
	url := srv.URL + "/tidings/users"

	if code, body := do(t, binaryRequest(t, url, "before", nil)); code != http.StatusAccepted {
		t.Fatalf("status %d (%s), want 202 while Kafka is up", code, body)
	}

	b.Stop()
	start := time.Now()
	code, body := do(t, binaryRequest(t, url, "during", nil))
	if code != http.StatusServiceUnavailable || body != "" {
		t.Fatalf("status %d (%q), want 503 with an empty body while Kafka is down", code, body)
	}
	// Bounded, not a speed assertion: the request must not hang for minutes.
	if waited := time.Since(start); waited > 30*time.Second {
		t.Errorf("503 took %s", waited)
	}

	b.Restart()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body = do(t, binaryRequest(t, url, "after", nil))
		if code == http.StatusAccepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingress did not recover after Kafka came back: last %d (%s)", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	recs := b.Read("tidings.users", 1, 10*time.Second)
	if id, _ := kafkatest.Header(recs[0], "ce_id"); id != "after" {
		t.Errorf("first record on the new broker is %q, want after", id)
	}
}

// The kafka_sarama binding itself maps partitionkey to the record key in
// binary mode; the ingress relies on it and only fills in for structured.
func TestBindingMapsPartitionKeyInBinaryMode(t *testing.T) {
	req := binaryRequest(t, "http://x/tidings/users", "evt-k", nil)
	body, _ := io.ReadAll(req.Body)
	ev, err := decodeEvent(req.Context(), req.Header, body)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := producerMessage(req.Context(), sink{topic: "t", contentMode: ContentModeBinary}, ev)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := msg.Key.Encode()
	if string(key) != "u-42" {
		t.Errorf("key %q, want u-42", key)
	}
}

// A broker that takes produce requests and never answers must not hang the
// ingress, nor keep later requests queued behind the stuck producer.
func TestSilentKafkaTimesOutWith503ThenRecovers(t *testing.T) {
	b := kafkatest.Start(t, 1, "tidings.users")
	in, err := NewIngress(Config{Brokers: b.Brokers(), Logger: quietLogger(), ProduceTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	in.Register("tidings", "users", "tidings.users", "binary")
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	url := srv.URL + "/tidings/users"

	if code, body := do(t, binaryRequest(t, url, "warm", nil)); code != http.StatusAccepted {
		t.Fatalf("status %d (%s)", code, body)
	}
	var silent atomic.Bool
	silent.Store(true)
	b.Cluster().ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		b.Cluster().KeepControl()
		return nil, nil, silent.Load() // handled with no response = swallowed
	})
	if code, body := do(t, binaryRequest(t, url, "swallowed", nil)); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503 from the produce timeout", code, body)
	}
	silent.Store(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := do(t, binaryRequest(t, url, "after", nil))
		if code == http.StatusAccepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the broker answered again: last %d", code)
		}
	}
}
