package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// signupLatency brings up the whole local stack against the machine's
// Postgres (scratch database) and Redis, with its own embedded Kafka and
// mail catcher, and measures POST /api/signup → the welcome email captured,
// at a steady, open-loop rate.
//
// The capture time is the catcher's own receive timestamp (same process,
// same clock as the send time), so how often we poll the catcher's API only
// changes when we notice, not what we measure.
func signupLatency(ctx context.Context, repo string, o options) error {
	heading("signup → welcome email captured, at a steady rate")
	if o.rate <= 0 || o.duration <= 0 {
		return fmt.Errorf("-rate and -duration must be positive")
	}
	s, err := upOnMachine(ctx, repo, "signup", o)
	if err != nil {
		return err
	}
	defer s.close(ctx)
	mailURL := s.Backing().MailURL
	if mailURL == "" {
		return fmt.Errorf("the stack started no mail catcher (is SMTP_ADDR set?)")
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	mail := newMailWatch(mailURL)
	watchErr := make(chan error, 1)
	go func() { watchErr <- mail.run(watchCtx, o.poll) }()

	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	runID := time.Now().UnixNano()
	emailFor := func(i int) string { return fmt.Sprintf("bench-%d-%d@example.com", runID, i) }

	// Warm-up: the first signup cold-starts signup and, through Kafka,
	// welcome.
	warm := signUp(ctx, client, s.GatewayURL, emailFor(0))
	if warm.err != nil || warm.status != http.StatusCreated {
		return fmt.Errorf("warm-up signup: %d %v", warm.status, warm.errOrBody())
	}
	if err := mail.waitAll(ctx, []string{warm.email}, o.drain); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warmMail, _ := mail.first(warm.email)
	coldBefore := coldStartCounts(s.Stack)

	// Steady: one signup every 1/rate, each on its own goroutine, whatever
	// the earlier ones are doing (open loop, so a slow stack cannot slow the
	// offered load down).
	total := int(o.duration.Seconds() * o.rate)
	results := make([]signupResult, total)
	offeredFor, err := openLoop(ctx, o.rate, total, func(i int) {
		results[i] = signUp(ctx, client, s.GatewayURL, emailFor(i+1))
	})
	if err != nil {
		return err
	}
	var created []string
	for _, r := range results {
		if r.err == nil && r.status == http.StatusCreated {
			created = append(created, r.email)
		}
	}
	drainErr := mail.waitAll(ctx, created, o.drain)
	stopWatch()
	if err := <-watchErr; err != nil && ctx.Err() == nil {
		return err
	}

	// Numbers.
	var respond, e2e, noticed []time.Duration
	var failures []string
	missing, duplicates := 0, 0
	for _, r := range results {
		if r.err != nil || r.status != http.StatusCreated {
			failures = append(failures, fmt.Sprintf("%d %s", r.status, r.errOrBody()))
			continue
		}
		respond = append(respond, r.answered.Sub(r.sent))
		m, ok := mail.first(r.email)
		if !ok {
			missing++
			continue
		}
		e2e = append(e2e, m.created.Sub(r.sent))
		noticed = append(noticed, m.noticed.Sub(r.sent))
		if m.count > 1 {
			duplicates++
		}
	}
	coldAfter := coldStartCounts(s.Stack)

	fmt.Printf("conditions: whole local stack (gateway → signup → outbox → KafkaSink → kfake → KafkaSource → welcome → SMTP → catcher),\n")
	fmt.Printf("            Postgres %s (scratch database), Redis %s; stack up in %s\n", redactURL(o.postgres), o.redis, s.upTook.Round(100*time.Millisecond))
	fmt.Printf("            %.3g signups/s for %s, open loop: %d sent in %s (%.2f/s); catcher polled every %s\n",
		o.rate, o.duration, total, offeredFor.Round(time.Millisecond), float64(total)/offeredFor.Seconds(), o.poll)
	fmt.Printf("warm-up (first signup; cold starts signup %s, welcome %s): response %s, email captured after %s\n",
		lastColdStart(s.Stack, "signup"), lastColdStart(s.Stack, "welcome"), ms(warm.answered.Sub(warm.sent)), ms(warmMail.created.Sub(warm.sent)))
	t := newLatencyTable(os.Stdout)
	t.row("POST /api/signup → 201", respond)
	t.row("signup sent → email captured (catcher's time)", e2e)
	t.row("  … → noticed by the bench's poll", noticed)
	t.flush()
	fmt.Printf("emails: %d of %d signups arrived; cold starts during the steady phase: %s\n", len(e2e), len(created), coldDiff(coldBefore, coldAfter))
	problems := false
	if missing > 0 {
		problems = true
		fmt.Printf("!!! %d WELCOME EMAILS MISSING after waiting %s (%v)\n", missing, o.drain, drainErr)
	}
	if duplicates > 0 {
		problems = true
		fmt.Printf("!!! %d signups got MORE THAN ONE welcome email\n", duplicates)
	}
	if len(failures) > 0 {
		problems = true
		fmt.Printf("!!! %d SIGNUPS FAILED, e.g. %s\n", len(failures), failures[0])
	}
	if st, ok := s.SourceStats("welcome"); ok {
		fmt.Printf("welcome KafkaSource: %+v\n", st)
	}
	if problems {
		return fmt.Errorf("signup benchmark: emails missing, duplicated or signups failed (numbers above)")
	}
	s.ok()
	return nil
}

type signupResult struct {
	email, id      string // id from the 201 body
	sent, answered time.Time
	status         int
	body           string
	err            error
}

func (r signupResult) errOrBody() string {
	if r.err != nil {
		return r.err.Error()
	}
	return strings.TrimSpace(r.body)
}

func signUp(ctx context.Context, client *http.Client, base, email string) signupResult {
	body, _ := json.Marshal(map[string]string{"email": email, "password": "correct horse battery", "name": "Bench"})
	r := signupResult{email: email}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/signup", bytes.NewReader(body))
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "tidings") // the CSRF guard asks for it, as the web app sends it
	r.sent = time.Now()
	resp, err := client.Do(req)
	r.answered = time.Now()
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	r.status = resp.StatusCode
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		r.body = string(b)
		return r
	}
	var created struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil {
		r.err = fmt.Errorf("signup answer: %w", err)
	}
	r.id = created.ID
	return r
}

func coldStartCounts(s *stack.Stack) map[string]int {
	out := map[string]int{}
	for _, svc := range s.Topology().Services {
		out[svc.Name] = len(s.Service(svc.Name).ColdStarts())
	}
	return out
}

func coldDiff(before, after map[string]int) string {
	var parts []string
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", name, d))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func lastColdStart(s *stack.Stack, name string) string {
	svc := s.Service(name)
	if svc == nil {
		return "-"
	}
	cs := svc.ColdStarts()
	if len(cs) == 0 {
		return "none"
	}
	return ms(cs[len(cs)-1])
}

// mailWatch follows the mail catcher's Mailpit-shaped API and remembers,
// per recipient, when the first mail to them was captured.
type mailWatch struct {
	list   string
	client *http.Client

	mu    sync.Mutex
	total int // messages seen so far (the catcher only grows here)
	seen  map[string]seenMail
	added chan struct{} // closed and replaced when seen grows
}

type seenMail struct {
	created, noticed time.Time
	count            int
}

func newMailWatch(baseURL string) *mailWatch {
	return &mailWatch{
		list:   baseURL + "/api/v1/messages",
		client: &http.Client{Timeout: 10 * time.Second},
		seen:   map[string]seenMail{},
		added:  make(chan struct{}),
	}
}

type mailList struct {
	Total    int `json:"total"`
	Messages []struct {
		To      []struct{ Address string }
		Created time.Time
	} `json:"messages"`
}

// run polls until ctx ends. A poll asks for the newest message only; when
// the total grew, it asks again for exactly the new ones (newest first).
func (w *mailWatch) run(ctx context.Context, every time.Duration) error {
	want := 1
	for ctx.Err() == nil {
		var l mailList
		if err := w.get(ctx, want, &l); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		now := time.Now()
		fresh := l.Total - w.total
		switch {
		case fresh <= 0:
			want = 1
		case fresh > len(l.Messages):
			want = fresh + 8 // more arrived than we asked for: ask again at once
			continue
		default:
			w.record(l, fresh, now)
			want = 1
		}
		select {
		case <-time.After(every):
		case <-ctx.Done():
		}
	}
	return nil
}

func (w *mailWatch) get(ctx context.Context, limit int, l *mailList) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s?limit=%d", w.list, limit), nil)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("mail catcher: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mail catcher: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(l); err != nil {
		return fmt.Errorf("mail catcher: %w", err)
	}
	return nil
}

func (w *mailWatch) record(l mailList, fresh int, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range l.Messages[:fresh] {
		for _, to := range m.To {
			addr := strings.ToLower(to.Address)
			s, ok := w.seen[addr]
			if !ok {
				s = seenMail{created: m.Created, noticed: now}
			} else if m.Created.Before(s.created) {
				s.created = m.Created
			}
			s.count++
			w.seen[addr] = s
		}
	}
	w.total = l.Total
	close(w.added)
	w.added = make(chan struct{})
}

func (w *mailWatch) first(addr string) (seenMail, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.seen[strings.ToLower(addr)]
	return s, ok
}

// waitAll waits until every address has mail, for at most patience.
func (w *mailWatch) waitAll(ctx context.Context, addrs []string, patience time.Duration) error {
	deadline := time.After(patience)
	for {
		w.mu.Lock()
		missing := 0
		for _, a := range addrs {
			if _, ok := w.seen[strings.ToLower(a)]; !ok {
				missing++
			}
		}
		added := w.added
		w.mu.Unlock()
		if missing == 0 {
			return nil
		}
		select {
		case <-added:
		case <-deadline:
			return fmt.Errorf("%d of %d emails not captured within %s", missing, len(addrs), patience)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
