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
	"sync/atomic"
	"time"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// signupLatency brings up the whole local stack against the machine's
// Postgres (scratch database) and Redis, with its own embedded Kafka and
// mail catcher, and measures POST /api/signup → the welcome email captured,
// climbing open-loop rates until one saturates. Signup hashes the password
// with argon2id on purpose, so its ceiling is low.
//
// The capture time is the catcher's own receive timestamp (same process,
// same clock as the send time), so how often we poll the catcher's API only
// changes when we notice, not what we measure.
func signupLatency(ctx context.Context, repo string, o options) error {
	heading("signup → welcome email captured, climbing rates")
	if err := o.signup.check(); err != nil {
		return err
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
	var signups atomic.Int64
	nextEmail := func() string { return fmt.Sprintf("bench-%d-%d@example.com", runID, signups.Add(1)) }

	// Warm-up: the first signup cold-starts signup and, through Kafka,
	// welcome.
	warm := signUp(ctx, client, s.GatewayURL, nextEmail())
	if warm.err != nil || warm.status != http.StatusCreated {
		return fmt.Errorf("warm-up signup: %d %v", warm.status, warm.errOrBody())
	}
	if err := mail.waitAll(ctx, []string{warm.email}, o.signup.drain); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warmMail, _ := mail.first(warm.email)

	fmt.Printf("conditions: whole local stack (gateway → signup → outbox → KafkaSink → kfake → KafkaSource → welcome → SMTP → catcher),\n")
	fmt.Printf("            Postgres %s (scratch database), Redis %s; stack up in %s; catcher polled every %s\n", redactURL(o.postgres), o.redis, s.upTook.Round(100*time.Millisecond), o.poll)
	fmt.Printf("            each rate held %s, open loop; a step saturates when the email p99 or the drain (last email after\n", o.signup.step)
	fmt.Printf("            the last signup) is over %s, or any email is lost or duplicated, or a signup fails\n", keptUpWithin)
	fmt.Printf("warm-up (first signup; cold starts signup %s, welcome %s): response %s, email captured after %s\n",
		lastColdStart(s.Stack, "signup"), lastColdStart(s.Stack, "welcome"), ms(warm.answered.Sub(warm.sent)), ms(warmMail.created.Sub(warm.sent)))

	curve := newTable(os.Stdout, "signups/s", "sent/s", "POST→201 p50", "p99", "max", "→ email p50", "p99", "max", "drain", "lost", "dup", "failed", "")
	var failures []string
	coldBefore := coldStartCounts(s.Stack)
	problems := false
	sustained, climbErr := climb(ctx, o.signup.rates, func(rate float64) ([]string, error) {
		total := o.signup.stepTotal(rate)
		results := make([]signupResult, total)
		begin := time.Now()
		offeredFor, err := openLoop(ctx, rate, total, func(i int) {
			results[i] = signUp(ctx, client, s.GatewayURL, nextEmail())
		})
		if err != nil {
			return nil, err
		}
		var created []string
		for _, r := range results {
			if r.err == nil && r.status == http.StatusCreated {
				created = append(created, r.email)
			}
		}
		drainErr := mail.waitAll(ctx, created, o.signup.drain)
		st := measureSignups(results, mail)
		if st.missing > 0 {
			fmt.Printf("!!! %g signups/s: %d WELCOME EMAILS MISSING after waiting %s (%v)\n", rate, st.missing, o.signup.drain, drainErr)
		}
		if st.duplicates > 0 {
			fmt.Printf("!!! %g signups/s: %d signups got MORE THAN ONE welcome email\n", rate, st.duplicates)
		}
		if st.missing+st.duplicates > 0 {
			problems = true
		}
		failures = append(failures, st.failures...)
		drain := drainAfter(begin.Add(offeredFor), st.lastEmail)
		reasons := saturation(percentile(sorted(st.email), 99), drain, st.missing, st.duplicates, len(st.failures))
		row := []string{fmt.Sprint(rate), fmt.Sprintf("%.1f", achieved(total, offeredFor))}
		row = append(row, spread(st.respond)...)
		row = append(row, spread(st.email)...)
		row = append(row, ms(drain), fmt.Sprint(st.missing), fmt.Sprint(st.duplicates), fmt.Sprint(len(st.failures)), verdict(reasons))
		curve.add(row...)
		return reasons, nil
	})
	stopWatch()
	if err := <-watchErr; err != nil && ctx.Err() == nil {
		return err
	}
	coldAfter := coldStartCounts(s.Stack)
	fmt.Printf("curve (latencies from POST /api/signup sent; → email is the catcher's capture time):\n")
	curve.flush()
	fmt.Println(sustainedLine(sustained, "signups", o.signup.rates))
	if climbErr != nil {
		return climbErr
	}
	fmt.Printf("cold starts during the curve: %s\n", coldDiff(coldBefore, coldAfter))
	if st, ok := s.SourceStats("welcome"); ok {
		fmt.Printf("welcome KafkaSource: %+v\n", st)
	}
	// A failed signup under overload is the saturation the curve shows; a
	// lost or doubled email is a broken promise.
	if len(failures) > 0 {
		fmt.Printf("signups that failed (the last step's, under overload): %d, e.g. %s\n", len(failures), failures[0])
	}
	if problems {
		return fmt.Errorf("signup benchmark: welcome emails missing or duplicated (numbers above)")
	}
	s.ok()
	return nil
}

// signupStats are one step's numbers.
type signupStats struct {
	respond, email      []time.Duration
	missing, duplicates int
	failures            []string
	lastEmail           time.Time
}

func measureSignups(results []signupResult, mail *mailWatch) signupStats {
	var st signupStats
	for _, r := range results {
		if r.err != nil || r.status != http.StatusCreated {
			st.failures = append(st.failures, fmt.Sprintf("%d %s", r.status, r.errOrBody()))
			continue
		}
		st.respond = append(st.respond, r.answered.Sub(r.sent))
		m, ok := mail.first(r.email)
		if !ok {
			st.missing++
			continue
		}
		st.email = append(st.email, m.created.Sub(r.sent))
		if m.created.After(st.lastEmail) {
			st.lastEmail = m.created
		}
		if m.count > 1 {
			st.duplicates++
		}
	}
	return st
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
	created time.Time
	count   int
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
		fresh := l.Total - w.total
		switch {
		case fresh <= 0:
			want = 1
		case fresh > len(l.Messages):
			want = fresh + 8 // more arrived than we asked for: ask again at once
			continue
		default:
			w.record(l, fresh)
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

func (w *mailWatch) record(l mailList, fresh int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range l.Messages[:fresh] {
		for _, to := range m.To {
			addr := strings.ToLower(to.Address)
			s, ok := w.seen[addr]
			if !ok {
				s = seenMail{created: m.Created}
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
