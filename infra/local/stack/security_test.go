package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/apicontract"
	"github.com/tidings-dev/tidings/infra/local/dlq"
	"github.com/tidings-dev/tidings/infra/testenv"
)

// TestSecurity replays the trust-boundary cases (README.md, "Tests") against a whole stack of its
// own (the shared TestLocalStack is other suites' ground, and
// `-run TestSecurity` then brings up only this one) and leaves a table of
// case, expected and observed (report_test.go).
func TestSecurity(t *testing.T) {
	w := startWorld(t, nil) // the functions' own limits: this suite tests them
	r := &report{}
	t.Cleanup(func() { r.write(t) })
	sec := &security{w: w, r: r}
	t.Run("accounts", sec.accounts)
	t.Run("sessions", sec.sessions)
	t.Run("social", sec.social)
	t.Run("events", sec.events)
	t.Run("forged events", sec.forged)
	t.Run("kafka", sec.kafka)
	t.Run("outages", sec.outages)
	sec.contractRow(t)
}

type security struct {
	w *world
	r *report

	mu         sync.Mutex
	violations map[string]bool // first lines of API contract violations seen
}

// contractRow records whether every API response of the run matched the
// contract (functions/apicontract/openapi.yaml), as TestLocalStack demands.
func (s *security) contractRow(t *testing.T) {
	s.mu.Lock()
	seen := slices.Sorted(maps.Keys(s.violations))
	s.mu.Unlock()
	observed := "all matched"
	if len(seen) > 0 {
		observed = strings.Join(seen, "; ")
	}
	s.r.record(t, verdict{name: "every API response of this run against the OpenAPI contract", expected: "all matched",
		observed: observed, ok: len(seen) == 0})
}

func (s *security) violation(err error) {
	first, _, _ := strings.Cut(err.Error(), "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.violations == nil {
		s.violations = map[string]bool{}
	}
	s.violations[strings.TrimSuffix(strings.TrimSpace(first), ":")] = true
}

// client is a browser on a loopback address of its own: the signup limit
// counts per client address (the gateway appends the peer to
// X-Forwarded-For), and this run must not share a count with other runs or
// suites on the shared Redis. Every response is checked against the API
// contract; what breaks it is one row of the report (contractRow).
func (s *security) client(t *testing.T) *browser {
	ip := net.IPv4(127, byte(1+rand.IntN(250)), byte(rand.IntN(256)), byte(1+rand.IntN(250)))
	dial := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	jar, _ := cookiejar.New(nil)
	contract := apicontract.Checking(&http.Transport{DialContext: dial.DialContext}, s.violation)
	return &browser{t: t, base: s.w.GatewayURL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: contract}}
}

// signUp makes an account and returns its browser, id and address.
func (s *security) signUp(t *testing.T, name, password string) (*browser, string, string) {
	t.Helper()
	b := s.client(t)
	addr := mail("sec-" + strings.ToLower(name))
	code, body := b.do("POST", "/api/signup", jsonOf(map[string]string{"email": addr, "password": password, "name": name}))
	if code != 201 {
		t.Fatalf("signup %s: %d %v", name, code, body)
	}
	return b, body["id"].(string), addr
}

// login opens one more session of an account in a new browser.
func (s *security) login(t *testing.T, addr, password string) (*browser, int) {
	b := s.client(t)
	code, _ := b.do("POST", "/api/login", jsonOf(map[string]string{"email": addr, "password": password}))
	return b, code
}

func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// socket opens the browser's notification WebSocket and returns it, or the
// HTTP status that refused it.
func (s *security) socket(t *testing.T, b *browser) (*websocket.Conn, int) {
	t.Helper()
	u, _ := url.Parse(b.base)
	hdr := http.Header{"Origin": {s.w.PublicURL}}
	for _, c := range b.c.Jar.Cookies(u) {
		hdr.Add("Cookie", c.Name+"="+c.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/api/notifications/stream", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		if res != nil {
			return nil, res.StatusCode
		}
		t.Fatalf("WebSocket: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() }) //nolint:errcheck
	return conn, 101
}

// closeCode reads the socket until it closes (or 30 s pass) and returns the
// close status, -1 when it stayed open.
func closeCode(conn *websocket.Conn) websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func (s *security) accounts(t *testing.T) {
	t.Run("20 parallel login guesses", func(t *testing.T) {
		_, _, addr := s.signUp(t, "Guess", "correct horse")
		codes := make([]int, 20)
		retryAfter := true
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				pw := fmt.Sprintf("wrong guess %d", i)
				if i == 19 {
					pw = "correct horse"
				}
				b := s.client(t)
				req, _ := http.NewRequest("POST", b.base+"/api/login", strings.NewReader(jsonOf(map[string]string{"email": addr, "password": pw})))
				req.Header.Set("Content-Type", "application/json")
				code, _, h := b.send(req)
				mu.Lock()
				defer mu.Unlock()
				codes[i] = code
				if code == 429 && h.Get("Retry-After") == "" {
					retryAfter = false
				}
			})
		}
		wg.Wait()
		tally := map[int]int{}
		for _, c := range codes {
			tally[c]++
		}
		evaluated := tally[200] + tally[401]
		s.r.record(t, verdict{name: "20 parallel login guesses (19 wrong, 1 right) for one account",
			expected: "at most 5 evaluated (200/401), the rest 429 with Retry-After",
			observed: fmt.Sprintf("200×%d 401×%d 429×%d other×%d, Retry-After on every 429: %v", tally[200], tally[401], tally[429], 20-evaluated-tally[429], retryAfter),
			ok:       evaluated <= 5 && tally[429] == 20-evaluated && retryAfter})
	})

	t.Run("70 × é as a password", func(t *testing.T) {
		pw := strings.Repeat("é", 70)
		b := s.client(t)
		addr := mail("sec-accent")
		signup, _ := b.do("POST", "/api/signup", jsonOf(map[string]string{"email": addr, "password": pw, "name": "Accent"}))
		_, login := s.login(t, addr, pw)
		s.r.record(t, verdict{name: `password of 70 × "é" (140 bytes): sign up, then log in`,
			expected: "201, then 200", observed: fmt.Sprintf("%d, then %d", signup, login), ok: signup == 201 && login == 200})
	})

	t.Run("NUL in a login email", func(t *testing.T) {
		code, _ := s.client(t).do("POST", "/api/login", `{"email":"a\u0000@example.com","password":"correct horse"}`)
		s.r.record(t, verdict{name: "NUL in the login email", expected: "400", observed: fmt.Sprint(code), ok: code == 400})
	})

	t.Run("invalid UTF-8 in a name and a post", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.w.GatewayURL+"/api/signup", strings.NewReader("{\"email\":\""+mail("sec-utf8")+"\",\"password\":\"correct horse\",\"name\":\"An\xffn\"}"))
		req.Header.Set("Content-Type", "application/json")
		code, raw, _ := s.client(t).send(req)
		s.r.record(t, verdict{name: "invalid UTF-8 in the signup name", expected: `400 naming field "name"`,
			observed: fmt.Sprintf("%d %s", code, fields(raw)), ok: code == 400 && fields(raw) == "name"})

		b, _, _ := s.signUp(t, "Poster", "correct horse")
		req, _ = http.NewRequest("POST", s.w.GatewayURL+"/api/posts", strings.NewReader("{\"text\":\"hi \xc3(\"}"))
		req.Header.Set("Content-Type", "application/json")
		code, raw, _ = b.send(req)
		s.r.record(t, verdict{name: "invalid UTF-8 in a post's text", expected: `400 naming field "text"`,
			observed: fmt.Sprintf("%d %s", code, fields(raw)), ok: code == 400 && fields(raw) == "text"})
	})

	t.Run("nosniff", func(t *testing.T) {
		b, _, _ := s.signUp(t, "Sniff", "correct horse")
		var seen []string
		ok := true
		for _, path := range []string{"/api/me", "/api/notifications", "/api/users?q=nob"} {
			req, _ := http.NewRequest("GET", s.w.GatewayURL+path, nil)
			code, _, h := b.send(req)
			seen = append(seen, fmt.Sprintf("%s %d %q", path, code, h.Get("X-Content-Type-Options")))
			ok = ok && h.Get("X-Content-Type-Options") == "nosniff"
		}
		s.r.record(t, verdict{name: "X-Content-Type-Options on API responses", expected: "nosniff on each",
			observed: strings.Join(seen, "; "), ok: ok})
	})

	t.Run("email addresses at signup", func(t *testing.T) {
		local := func(n int) string { return strings.Repeat("a", n) }
		for _, c := range []struct {
			addr string
			want int
		}{
			{fmt.Sprintf("jürgen-%d@example.com", runID), 201},
			{fmt.Sprintf("a-%d@exämple.com", runID), 201},
			{fmt.Sprintf("a-%d@my_host.example.com", runID), 400},
			{local(65) + "@example.com", 400},
			{"0@0.!", 400},
		} {
			code, _ := s.client(t).do("POST", "/api/signup", jsonOf(map[string]string{"email": c.addr, "password": "correct horse", "name": "Mail"}))
			s.r.record(t, verdict{name: "signup with email " + c.addr, expected: fmt.Sprint(c.want),
				observed: fmt.Sprint(code), ok: code == c.want})
		}
	})

	t.Run("signup rate limit", func(t *testing.T) {
		b := s.client(t) // one client address
		var codes []int
		var last http.Header
		for i := range 21 {
			req, _ := http.NewRequest("POST", s.w.GatewayURL+"/api/signup", strings.NewReader(jsonOf(map[string]string{
				"email": mail(fmt.Sprintf("sec-burst%d", i)), "password": "correct horse", "name": "Burst"})))
			req.Header.Set("Content-Type", "application/json")
			code, _, h := b.send(req)
			codes = append(codes, code)
			last = h
		}
		first := 0
		for _, c := range codes[:20] {
			if c == 201 {
				first++
			}
		}
		s.r.record(t, verdict{name: "21 signups from one client address in an hour", expected: "20 × 201, then 429 with Retry-After",
			observed: fmt.Sprintf("%d × 201, then %d Retry-After %q", first, codes[20], last.Get("Retry-After")),
			ok:       first == 20 && codes[20] == 429 && last.Get("Retry-After") != ""})
	})
}

// fields lists the fields a problem+json body names.
func fields(raw []byte) string {
	var p struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	_ = json.Unmarshal(raw, &p)
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return strings.Join(out, ",")
}

func (s *security) sessions(t *testing.T) {
	t.Run("WebSocket after logout", func(t *testing.T) {
		b, _, _ := s.signUp(t, "Leaver", "correct horse")
		conn, _ := s.socket(t, b)
		b.do("POST", "/api/logout", "")
		code := closeCode(conn)
		s.r.record(t, verdict{name: "open WebSocket when its session logs out", expected: "closed with 1008",
			observed: fmt.Sprint(int(code)), ok: code == websocket.StatusPolicyViolation})
	})

	t.Run("WebSocket after log out everywhere", func(t *testing.T) {
		b, _, addr := s.signUp(t, "Everywhere", "correct horse")
		other, _ := s.login(t, addr, "correct horse")
		conn, _ := s.socket(t, other)
		b.do("POST", "/api/logout?all=1", "")
		code := closeCode(conn)
		me, _ := other.do("GET", "/api/me", "")
		s.r.record(t, verdict{name: "WebSocket of another session on POST /api/logout?all=1", expected: "closed with 1008; that session's /api/me 401",
			observed: fmt.Sprintf("%d; %d", int(code), me), ok: code == websocket.StatusPolicyViolation && me == 401})
	})

	t.Run("6th socket for one user", func(t *testing.T) {
		b, _, _ := s.signUp(t, "Sockets", "correct horse")
		var got []int
		for range 6 {
			_, code := s.socket(t, b)
			got = append(got, code)
		}
		s.r.record(t, verdict{name: "6 WebSockets for one user", expected: "5 × 101, the 6th 429",
			observed: fmt.Sprint(got), ok: fmt.Sprint(got) == "[101 101 101 101 101 429]"})
	})

	t.Run("21st session", func(t *testing.T) {
		first, _, addr := s.signUp(t, "Sessions", "correct horse")
		var last *browser
		logins := 0
		for range 20 {
			b, code := s.login(t, addr, "correct horse")
			if code == 200 {
				logins++
			}
			last = b
		}
		oldest, _ := first.do("GET", "/api/me", "")
		newest, _ := last.do("GET", "/api/me", "")
		s.r.record(t, verdict{name: "21st session of one account", expected: "the oldest ends (401), the newest lives (200)",
			observed: fmt.Sprintf("%d logins; oldest %d, newest %d", logins, oldest, newest), ok: logins == 20 && oldest == 401 && newest == 200})
	})
}

func (s *security) social(t *testing.T) {
	searcher, _, _ := s.signUp(t, "Seeker", "correct horse")
	_, ownerID, ownerAddr := s.signUp(t, "Owner", "correct horse")

	t.Run("search by email", func(t *testing.T) {
		found := func(q string) []string {
			_, body := searcher.do("GET", "/api/users?q="+url.QueryEscape(q), "")
			var ids []string
			for _, u := range items(body, "users") {
				ids = append(ids, fmt.Sprint(u["id"]))
			}
			return ids
		}
		prefix := found(ownerAddr[:len("sec-owner-")+4])
		whole := found(ownerAddr)
		s.r.record(t, verdict{name: "search by an email prefix, then by the whole address", expected: "nobody; then the owner",
			observed: fmt.Sprintf("%v; %v", prefix, whole), ok: len(prefix) == 0 && len(whole) == 1 && whole[0] == ownerID})
	})

	t.Run("search rate limit", func(t *testing.T) {
		b, _, _ := s.signUp(t, "Searcher", "correct horse")
		ok200, code := 0, 0
		var h http.Header
		for range 61 {
			req, _ := http.NewRequest("GET", s.w.GatewayURL+"/api/users?q=ann", nil)
			code, _, h = b.send(req)
			if code == 200 {
				ok200++
			}
		}
		s.r.record(t, verdict{name: "61 searches by one account in a minute", expected: "60 × 200, then 429 with Retry-After",
			observed: fmt.Sprintf("%d × 200, then %d Retry-After %q", ok200, code, h.Get("Retry-After")),
			ok:       ok200 == 60 && code == 429 && h.Get("Retry-After") != ""})
	})

	t.Run("request/cancel × 20", func(t *testing.T) {
		asker, _, _ := s.signUp(t, "Asker", "correct horse")
		target, targetID, _ := s.signUp(t, "Target", "correct horse")
		conn, _ := s.socket(t, target)
		// Each live message is a notification or a {"changed":...} (a
		// cancelled request's notification taken back).
		live := make(chan bool, 64) // true for a notification
		go func() {
			for {
				_, msg, err := conn.Read(context.Background())
				if err != nil {
					return
				}
				live <- !strings.Contains(string(msg), `"changed"`)
			}
		}()
		var codes []int
		for range 20 {
			code, body := asker.do("POST", "/api/friends/requests", jsonOf(map[string]string{"userId": targetID}))
			codes = append(codes, code)
			if id, ok := body["id"].(string); ok {
				asker.do("DELETE", "/api/friends/requests/"+id, "")
			}
		}
		time.Sleep(5 * time.Second) // let every notification that would come arrive
		_, body := target.do("GET", "/api/notifications", "")
		stored, notes, changed := len(items(body, "notifications")), 0, 0
		for len(live) > 0 {
			if <-live {
				notes++
			} else {
				changed++
			}
		}
		// The cancel takes the notification back: pushed then withdrawn
		// when notify heard of the request before its cancel committed,
		// never pushed when it heard of it after.
		s.r.record(t, verdict{name: "friend request then cancel, 20 times", expected: "nothing stored; at most 1 notification pushed, then taken back (later requests 429)",
			observed: fmt.Sprintf("%d stored, %d pushed, %d taken back; answers %v", stored, notes, changed, codes), ok: stored == 0 && notes <= 1 && changed == notes})
	})
}

// sinkPost posts a CloudEvent to a KafkaSink in structured mode, so that
// attributes an HTTP header could not carry (CR, LF) reach the ingress. With
// a subject it presents that identity's token for the sink, as a careless
// producer that is allowed to send would; without one it is an outsider.
func (s *security) sinkPost(t *testing.T, sink string, e cloudevents.Event, subject ...string) int {
	t.Helper()
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", s.w.IngressURL+"/tidings/"+sink, strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	for _, sub := range subject {
		req.Header.Set("Authorization", "Bearer "+s.w.MintToken(sub, sink))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// unchecked builds an event of a contract type without validating it, as a
// careless or hostile producer would.
func unchecked(t *testing.T, typ, subject string, data any) cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID(uuid.NewString())
	e.SetSource("/outside/security-test")
	e.SetType(typ)
	e.SetSubject(subject)
	e.SetTime(time.Now().UTC())
	e.SetExtension(events.PartitionKeyExtension, subject)
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return e
}

// refusedOrDeadLettered posts e and reports what became of it: refused by
// the ingress, or the dead letter its source wrote (within d).
func (s *security) refusedOrDeadLettered(t *testing.T, sink, source string, e cloudevents.Event, d time.Duration) (string, bool, letter) {
	code := s.sinkPost(t, sink, e, producerOf[sink])
	if code >= 400 && code < 500 {
		return fmt.Sprintf("refused %d", code), true, letter{}
	}
	var l letter
	found := within(d, func() bool {
		var ok bool
		l, ok = dlqList(t, s.w, source)[e.ID()]
		return ok
	})
	if !found {
		return fmt.Sprintf("ingress %d, no dead letter on %s's topic within %s", code, source, d), false, l
	}
	return fmt.Sprintf("ingress %d, dead-lettered %s: %s", code, l.code, l.reason), l.reason != "", l
}

// producerOf is the identity each sink's EventPolicy admits
// (knative/eventpolicies.yaml): the events cases below post as the sink's own
// producer, so they reach the consumers that must refuse them.
var producerOf = map[string]string{
	"users":   signupIdentity,
	"friends": "system:serviceaccount:tidings:friends-sink-oidc-sources.knative.dev-sinkbinding",
}

func (s *security) events(t *testing.T) {
	signedUp := func(name, addr string) map[string]any {
		return map[string]any{"userId": uuid.NewString(), "email": addr, "name": name, "signedUpAt": "2026-01-02T03:04:05Z"}
	}
	t.Run("CR/LF in an event id", func(t *testing.T) {
		// Only Tidings' functions may send (knative/eventpolicies.yaml), and
		// they cannot make such an event: events.New and the outbox refuse
		// control characters (events/attributes.go). The real KafkaSink
		// receiver does not check attributes, and a record whose ce_id
		// carries CR/LF cannot be sent on over HTTP by the dispatcher nor to
		// its dead-letter sink, so the door that matters is the policy: an
		// outsider's post is refused before it reaches Kafka.
		e := unchecked(t, events.TypeUserSignedUp, uuid.NewString(), signedUp("Crlf", mail("sec-crlf")))
		e.SetID("forged\r\nid")
		code := s.sinkPost(t, "users", e)
		s.r.record(t, verdict{name: "event id with CR/LF posted to the users sink by an outsider", expected: "refused (401); never reaches Kafka",
			observed: fmt.Sprintf("ingress %d", code), ok: code == http.StatusUnauthorized})
	})

	t.Run("NUL in a payload string", func(t *testing.T) {
		e := unchecked(t, events.TypeUserSignedUp, uuid.NewString(), signedUp("Nul\x00Name", mail("sec-nul")))
		observed, ok, l := s.refusedOrDeadLettered(t, "users", "welcome", e, 60*time.Second)
		ok = ok && (l.code == "" || l.code[0] == '4') // a data error is permanent, not a retried 500
		s.r.record(t, verdict{name: "NUL in user.signedup's name posted to the users sink", expected: "refused (4xx) or dead-lettered at once as permanent (4xx) with a reason",
			observed: observed, ok: ok})
	})

	t.Run("lower-case t in a date-time", func(t *testing.T) {
		requester := uuid.NewString()
		e := unchecked(t, events.TypeFriendAccepted, requester, map[string]any{"requestId": uuid.NewString(), "requesterId": requester,
			"accepterId": uuid.NewString(), "accepterName": "Lower", "acceptedAt": "2026-01-02t03:04:05Z"})
		observed, ok, l := s.refusedOrDeadLettered(t, "friends", "notify", e, 60*time.Second)
		ok = ok && (l.code == "" || l.code[0] == '4')
		s.r.record(t, verdict{name: `friend.accepted with acceptedAt "2026-01-02t03:04:05Z"`, expected: "schema and decoder agree: refused (4xx) or dead-lettered as permanent (4xx) with a reason",
			observed: observed, ok: ok})
	})

	t.Run("forged dead letter and replay --all", func(t *testing.T) {
		requester := uuid.NewString()
		e, err := events.New("/tidings/friends", events.TypeFriendAccepted, requester, requester, map[string]any{"requestId": uuid.NewString(),
			"requesterId": requester, "accepterId": uuid.NewString(), "accepterName": "Forger", "acceptedAt": "2026-01-02T03:04:05Z"})
		if err != nil {
			t.Fatal(err)
		}
		e.SetExtension("knativeerrordest", s.w.ServiceURL("notify"))
		e.SetExtension("knativeerrorcode", "500")
		s.produce(t, "tidings.dlq.notify", e)
		listed := within(30*time.Second, func() bool { _, ok := dlqList(t, s.w, "notify")[e.ID()]; return ok })
		rep, err := dlq.Replay(context.Background(), loadTopology(t), []string{s.w.kafkaAt}, s.w.dlqAuth(), "notify", nil)
		replayed, skipped := false, ""
		for _, r := range rep.Replayed {
			replayed = replayed || r.Letter.Event.ID() == e.ID()
		}
		for _, sk := range rep.Skipped {
			if sk.Letter.Event.ID() == e.ID() {
				skipped = sk.Reason
			}
		}
		// The automatic re-drive (knative/sources.yaml, "Re-drive") hands the
		// letter to notify, whose fact checks refuse it for good: parked.
		var parked letter
		wasParked := within(30*time.Second, func() bool {
			var ok bool
			parked, ok = dlqList(t, s.w, "redrive-notify")[e.ID()]
			return ok
		})
		s.r.record(t, verdict{name: "forged letter written straight to tidings.dlq.notify, then dlq replay --all", expected: "listed, skipped with a reason, not replayed; the re-drive's delivery is refused (400) and parked",
			observed: fmt.Sprintf("listed %v, replayed %v, skipped %q, error %v; parked %v with %s %q", listed, replayed, skipped, err, wasParked, parked.code, parked.reason),
			ok:       listed && !replayed && skipped != "" && err == nil && wasParked && parked.code == "400"})
	})
}

// produce writes a binary-mode CloudEvent record straight to a topic as the
// KafkaSink receiver's user, the one principal that may write a dead-letter
// topic (knative/kafkausers.yaml); replay must not trust even its letters.
func (s *security) produce(t *testing.T, topic string, e cloudevents.Event) {
	t.Helper()
	cl := s.kafkaClient(t, s.w.KafkaCredentials(sinkSecret))
	defer cl.Close()
	rec := &kgo.Record{Topic: topic, Key: []byte(e.Subject()), Value: e.Data(), Headers: []kgo.RecordHeader{
		{Key: "content-type", Value: []byte(e.DataContentType())},
		{Key: "ce_specversion", Value: []byte(e.SpecVersion())},
		{Key: "ce_id", Value: []byte(e.ID())},
		{Key: "ce_source", Value: []byte(e.Source())},
		{Key: "ce_type", Value: []byte(e.Type())},
		{Key: "ce_subject", Value: []byte(e.Subject())},
		{Key: "ce_time", Value: []byte(e.Time().Format(time.RFC3339Nano))},
		{Key: "ce_dataschema", Value: []byte(e.DataSchema())},
	}}
	for name, v := range e.Extensions() {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "ce_" + name, Value: []byte(fmt.Sprint(v))})
	}
	if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// forged plays the forged-event attacks through the KafkaSink
// ingress with no token: the EventPolicies refuse them (401) and nothing
// they claim takes effect.
func (s *security) forged(t *testing.T) {
	ann, annID, _ := s.signUp(t, "Fann", "correct horse")
	bob, bobID, _ := s.signUp(t, "Fbob", "correct horse")
	carol, carolID, _ := s.signUp(t, "Fcarol", "correct horse")
	_, body := ann.do("POST", "/api/friends/requests", jsonOf(map[string]string{"userId": bobID}))
	reqID, _ := body["id"].(string)
	if code, _ := bob.do("POST", "/api/friends/requests/"+reqID+"/accept", ""); code >= 300 {
		t.Fatalf("Bob accepts Ann: %d", code)
	}
	count := func(b *browser) int {
		_, body := b.do("GET", "/api/notifications", "")
		return len(items(body, "notifications"))
	}
	testenv.Eventually(t, 30*time.Second, "Ann's friend.accepted notification", func() bool { return count(ann) == 1 })
	carolBefore := count(carol)
	forge := func(typ, subject string, data any) cloudevents.Event {
		e, err := events.New("/tidings/forger", typ, subject, subject, data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	now := time.Now().UTC().Format(time.RFC3339)

	t.Run("forged user.signedup", func(t *testing.T) {
		victim := mail("sec-victim")
		e := forge(events.TypeUserSignedUp, uuid.NewString(), map[string]any{"userId": uuid.NewString(), "email": victim, "name": "Click https://evil.example", "signedUpAt": now})
		code := s.sinkPost(t, "users", e)
		mailed := within(20*time.Second, func() bool { return len(s.w.mailsTo(victim)) > 0 })
		s.r.record(t, verdict{name: "forged user.signedup for a stranger's address to the users sink", expected: "401, no welcome mail",
			observed: fmt.Sprintf("%d, mailed %v", code, mailed), ok: code == 401 && !mailed})
	})

	t.Run("forged notification.created dated 2099", func(t *testing.T) {
		e := forge(events.TypeNotificationCreated, carolID, map[string]any{"recipientId": carolID, "kind": "post.created", "actorId": annID,
			"actorName": "Fann", "postId": uuid.NewString(), "causeSource": "/tidings/post", "causeId": uuid.NewString(), "createdAt": "2099-01-01T00:00:00Z"})
		code := s.sinkPost(t, "notifications", e)
		listed := within(20*time.Second, func() bool { return count(carol) > carolBefore })
		s.r.record(t, verdict{name: "forged notification.created dated 2099 for Carol to the notifications sink", expected: "401, nothing in Carol's list",
			observed: fmt.Sprintf("%d, listed %v", code, listed), ok: code == 401 && !listed})
	})

	t.Run("forged friend.accepted", func(t *testing.T) {
		before := count(bob)
		e := forge(events.TypeFriendAccepted, bobID, map[string]any{"requestId": uuid.NewString(), "requesterId": bobID,
			"accepterId": carolID, "accepterName": "Fcarol", "acceptedAt": now})
		code := s.sinkPost(t, "friends", e)
		listed := within(20*time.Second, func() bool { return count(bob) > before })
		s.r.record(t, verdict{name: "forged friend.accepted (Carol accepted Bob, who never asked) to the friends sink", expected: "401, no notification for Bob",
			observed: fmt.Sprintf("%d, notified %v", code, listed), ok: code == 401 && !listed})
	})

	t.Run("forged post.created", func(t *testing.T) {
		before := count(bob)
		e := forge(events.TypePostCreated, annID, map[string]any{"postId": uuid.NewString(), "authorId": annID, "authorName": "Fann", "hasImage": false, "createdAt": now})
		code := s.sinkPost(t, "posts", e)
		listed := within(20*time.Second, func() bool { return count(bob) > before })
		s.r.record(t, verdict{name: "forged post.created (a post Ann never wrote) to the posts sink", expected: "401, no notification for Ann's friend Bob",
			observed: fmt.Sprintf("%d, notified %v", code, listed), ok: code == 401 && !listed})
	})
}

// outages: what heals without a human.
func (s *security) outages(t *testing.T) {
	t.Run("a dead letter re-drives itself", func(t *testing.T) {
		// The letter an SMTP outage longer than welcome's retry window
		// leaves (knative/sources.yaml, "Re-drive"): redrive-welcome hands it
		// back to welcome at once, and welcome, which already mailed this
		// user at signup, does not mail twice.
		_, id, addr := s.signUp(t, "Outage", "correct horse")
		testenv.Eventually(t, 30*time.Second, "the welcome mail", func() bool { return len(s.w.mailsTo(addr)) == 1 })
		before, _ := s.w.SourceStats("redrive-welcome")
		e, err := events.New("/tidings/signup", events.TypeUserSignedUp, id, id, events.UserSignedUp{UserID: id, Email: addr, Name: "Outage", SignedUpAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		e.SetExtension("knativeerrordest", s.w.ServiceURL("welcome"))
		e.SetExtension("knativeerrorcode", "500")
		s.produce(t, "tidings.dlq.welcome", e)
		redriven := within(30*time.Second, func() bool {
			st, _ := s.w.SourceStats("redrive-welcome")
			return st.Delivered > before.Delivered
		})
		time.Sleep(time.Second)
		mails := len(s.w.mailsTo(addr))
		s.r.record(t, verdict{name: "a letter on tidings.dlq.welcome for a user already welcomed (as an SMTP outage leaves)", expected: "re-delivered to welcome by redrive-welcome within seconds, no human; still one welcome mail",
			observed: fmt.Sprintf("re-delivered %v; %d mail(s)", redriven, mails), ok: redriven && mails == 1})
	})
}
