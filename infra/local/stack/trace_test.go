package stack_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidings-dev/tidings/events"
)

// jaegerTrace is a trace as Jaeger's HTTP API (/api/traces) returns it.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		ProcessID     string `json:"processID"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

type jaegerAnswer struct {
	Data []jaegerTrace `json:"data"`
}

func queryJaeger(t *testing.T, u string) []jaegerTrace {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("Jaeger: %v", err)
	}
	defer res.Body.Close()
	var a jaegerAnswer
	if res.StatusCode == http.StatusNotFound {
		return nil // not stored yet
	}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("Jaeger %s: %d %v", u, res.StatusCode, err)
	}
	return a.Data
}

// span is "service: operation", the way the assertions name spans.
func (tr jaegerTrace) span(i int) string {
	s := tr.Spans[i]
	return tr.Processes[s.ProcessID].ServiceName + ": " + s.OperationName
}

// ancestry is the chain from the first span named leaf up to the root,
// each "service: operation", following the CHILD_OF reference (links are
// FOLLOWS_FROM and are not parents).
func (tr jaegerTrace) ancestry(leaf string) []string {
	byID := map[string]int{}
	at := -1
	for i, s := range tr.Spans {
		byID[s.SpanID] = i
		if tr.span(i) == leaf && at < 0 {
			at = i
		}
	}
	var chain []string
	for seen := 0; at >= 0 && seen <= len(tr.Spans); seen++ {
		chain = append(chain, tr.span(at))
		next := -1
		for _, r := range tr.Spans[at].References {
			if i, ok := byID[r.SpanID]; ok && r.RefType == "CHILD_OF" {
				next = i
			}
		}
		at = next
	}
	return chain
}

// traced waits until Jaeger has the trace of a response with every span
// in want on the path from want[0] up to the root, in that order (others
// may lie between). Functions export in batches, every few seconds.
func traced(t *testing.T, w *world, traceID string, want ...string) jaegerTrace {
	t.Helper()
	var last []string
	var got jaegerTrace
	ok := within(60*time.Second, func() bool {
		traces := queryJaeger(t, w.Backing().JaegerURL+"/api/traces/"+traceID)
		if len(traces) != 1 {
			return false
		}
		got = traces[0]
		last = got.ancestry(want[0])
		i := 0
		for _, s := range last {
			if i < len(want) && s == want[i] {
				i++
			}
		}
		return i == len(want)
	})
	if !ok {
		var all []string
		for i := range got.Spans {
			all = append(all, got.span(i))
		}
		t.Fatalf("trace %s: %q does not descend from %q.\nits ancestry: %q\nall spans: %q", traceID, want[0], want[1:], last, all)
	}
	return got
}

// traceIDOf reads the trace id from a response's traceresponse header
// (version-traceid-spanid-flags).
func traceIDOf(t *testing.T, h http.Header) string {
	t.Helper()
	parts := strings.Split(h.Get("Traceresponse"), "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		t.Fatalf("no traceresponse header: %q", h.Get("Traceresponse"))
	}
	return parts[1]
}

func (b *browser) postJSON(path, body string) (int, []byte, http.Header) {
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return b.send(req)
}

// tracing checks that one click is one trace in Jaeger: a signup down to
// the welcome email, a post down to the friend's WebSocket push, through
// the gateway, the outbox, the KafkaSink, Kafka and the KafkaSource.
// Where propagation breaks, the downstream spans land in another trace and
// the ancestry check fails, naming the chain it found.
func tracing(t *testing.T, w *world) {
	if w.Backing().JaegerURL == "" {
		t.Fatal("the stack runs no Jaeger")
	}
	t.Run("a signup is one trace down to the welcome email", func(t *testing.T) {
		b := newBrowser(t, w.GatewayURL)
		code, raw, h := b.postJSON("/api/signup", fmt.Sprintf(`{"email":%q,"password":"correct horse","name":"Tia"}`, mail("trace-tia")))
		if code != 201 {
			t.Fatalf("signup: %d %s", code, raw)
		}
		id := traceIDOf(t, h)
		tr := traced(t, w, id,
			"welcome: smtp send",
			"welcome: process "+events.TypeUserSignedUp,
			"kafka-source-dispatcher: POST",
			"kafka-source-dispatcher: process "+events.TopicUsers,
			"kafka-sink-receiver: send "+events.TopicUsers,
			"kafka-sink-receiver: POST /tidings/users",
			"signup: outbox send",
			"signup: outbox write",
			"signup: POST /api/signup",
			"gateway: POST signup",
		)
		if root := tr.ancestry("welcome: smtp send"); root[len(root)-1] != "gateway: POST signup" {
			t.Fatalf("the trace's root is %q, not the gateway's span", root[len(root)-1])
		}
		// The search API finds it by service too.
		q := url.Values{"service": {"welcome"}, "lookback": {"1h"}, "limit": {"100"}}
		found := false
		for _, tr := range queryJaeger(t, w.Backing().JaegerURL+"/api/traces?"+q.Encode()) {
			found = found || tr.TraceID == id
		}
		if !found {
			t.Fatalf("/api/traces?service=welcome does not list trace %s", id)
		}
	})

	t.Run("the spans are counted per route and outcome on a Prometheus endpoint", func(t *testing.T) {
		// each a series of calls with all these labels
		want := [][]string{
			{`service_name="signup"`, `span_kind="SPAN_KIND_SERVER"`, `span_name="POST /api/signup"`, `http_response_status_code="201"`},
			{`service_name="kafka-source-dispatcher"`, `span_name="process tidings.users"`, `tidings_delivery_outcome="delivered"`},
			{`service_name="welcome"`, `span_name="process ` + events.TypeUserSignedUp + `"`, `tidings_consume_outcome="processed"`},
		}
		has := func(lines []string, labels []string) bool {
			for _, l := range lines {
				ok := strings.HasPrefix(l, "traces_span_metrics_calls_total{")
				for _, lb := range labels {
					ok = ok && strings.Contains(l, lb)
				}
				if ok {
					return true
				}
			}
			return false
		}
		var missing [][]string
		if !within(30*time.Second, func() bool {
			res, err := http.Get(w.Backing().SpanMetricsURL)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			lines := strings.Split(string(raw), "\n")
			missing = missing[:0]
			for _, labels := range want {
				if !has(lines, labels) {
					missing = append(missing, labels)
				}
			}
			return len(missing) == 0
		}) {
			t.Fatalf("%s has no calls series with %q", w.Backing().SpanMetricsURL, missing)
		}
	})

	t.Run("a post is one trace down to the friend's WebSocket push", func(t *testing.T) {
		ann, bob := signUp(t, w, "Tess"), signUp(t, w, "Theo")
		bob.listen(t) // before the request: its live notification must not come after the post's
		code, req := ann.do("POST", "/api/friends/requests", fmt.Sprintf(`{"userId":%q}`, bob.id))
		if code != 201 {
			t.Fatalf("friend request: %d %v", code, req)
		}
		bob.expect(t, "friend.requested", "Tess sent you a friend request")
		if code, _ := bob.do("POST", fmt.Sprintf("/api/friends/requests/%s/accept", req["id"]), ""); code != 200 {
			t.Fatalf("accept: %d", code)
		}
		code, raw, h := ann.postJSON("/api/posts", `{"text":"traced"}`)
		if code != 201 {
			t.Fatalf("post: %d %s", code, raw)
		}
		bob.expect(t, "post.created", "Tess posted")
		traced(t, w, traceIDOf(t, h),
			"inbox: websocket push",
			"notify: process "+events.TypeNotificationCreated,
			"kafka-source-dispatcher: process "+events.TopicNotifications,
			"kafka-sink-receiver: send "+events.TopicNotifications,
			"fanout: outbox send",
			"fanout: outbox write",
			"fanout: process "+events.TypePostCreated,
			"kafka-source-dispatcher: process "+events.TopicPosts,
			"kafka-sink-receiver: send "+events.TopicPosts,
			"post: outbox send",
			"post: outbox write",
			"post: POST /api/posts",
			"gateway: POST post",
		)
	})
}
