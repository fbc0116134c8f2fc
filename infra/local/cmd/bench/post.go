package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// postLatency brings up the whole local stack (as signupLatency does), signs
// up authors and their friends through the gateway's HTTP API, befriends
// them, opens every friend's notification WebSocket, and measures POST
// /api/posts → the post.created message on every friend's socket, climbing
// open-loop rates of posts until one saturates.
//
// Send and arrival times come from the same clock in this process; an
// arrival is stamped as soon as the friend's reader gets the message.
func postLatency(ctx context.Context, repo string, o options) error {
	heading(fmt.Sprintf("post → live notification at each of %d friends, climbing rates", o.friends))
	if o.authors < 1 || o.friends < 1 || o.setupParallel < 1 {
		return fmt.Errorf("authors, friends and setup-parallel must be positive")
	}
	if err := o.post.check(); err != nil {
		return err
	}
	s, err := upOnMachine(ctx, repo, "post", o)
	if err != nil {
		return err
	}
	defer s.close(ctx)
	base := s.GatewayURL

	// Setup, through the API only: signups, friendships, sockets.
	setupStart := time.Now()
	authors, friends, err := signUpCrowd(ctx, base, o)
	if err != nil {
		return err
	}
	if err := befriend(ctx, base, authors, friends, o); err != nil {
		return err
	}
	live := &liveWatch{seen: map[string][]arrival{}, other: map[string]int{}}
	closeSockets, err := live.open(ctx, base, s.PublicURL, friends, o.setupParallel*4)
	if err != nil {
		return err
	}
	defer closeSockets()
	settleErr := waitSetupSettled(ctx, s.Stack, len(authors)+len(friends), 2*len(friends), o.post.drain)
	setupTook := time.Since(setupStart)

	// Warm-up: one post per author, all at once. The first posts
	// cold-start post, fanout and notify (whichever have scaled to zero).
	coldBefore := coldStartCounts(s.Stack)
	warm := make([]postResult, len(authors))
	runParallel(ctx, len(authors), len(authors), func(a int) error { //nolint:errcheck // failures are in the results
		warm[a] = sendPost(ctx, authors[a], base, a, "warm-up post")
		return nil
	})
	warmDrainErr := live.waitFor(ctx, warm, o.friends, o.post.drain)
	warmCold := coldStartsSince(s.Stack, coldBefore)

	fmt.Printf("conditions: whole local stack (gateway → post → outbox → KafkaSink → kfake → KafkaSource → fanout → KafkaSink → kfake\n")
	fmt.Printf("            → KafkaSource → notify → Redis pub/sub → inbox → WebSocket); %d cores shared by the stack, its functions and the\n", runtime.NumCPU())
	fmt.Printf("            bench's %d WebSocket readers; Postgres %s (scratch database), Redis %s\n", len(friends), redactURL(o.postgres), o.redis)
	fmt.Printf("            %d authors × %d distinct friends each (%d WebSockets); stack up in %s, setup (signups, friendships, sockets, settling) %s\n",
		len(authors), o.friends, len(friends), s.upTook.Round(100*time.Millisecond), setupTook.Round(100*time.Millisecond))
	fmt.Printf("            each rate held %s, open loop, authors in turn; a step saturates when the each-friend p99 or the drain\n", o.post.step)
	fmt.Printf("            (last message after the last POST) is over %s, or anything is lost, duplicated or fails\n", keptUpWithin)
	if settleErr != nil {
		fmt.Printf("!!! setup had not settled when the warm-up began: %v\n", settleErr)
	}
	drained := statusSummary(live.otherTypes())
	if drained == "" {
		drained = "none"
	}
	fmt.Printf("setup notifications drained from the sockets: %s\n", drained)
	fmt.Printf("warm-up (one post per author, all at once; cold starts during it: %s):\n", warmCold)
	w := live.measure(warm, o.friends)
	w.table(os.Stdout, o.friends)
	problems := w.report("warm-up", warmDrainErr)

	// The curve: each rate for o.post.step, one post every 1/rate, authors
	// in turn, each POST on its own goroutine whatever the earlier ones are
	// doing.
	curve := newTable(os.Stdout, "posts/s", "sent/s", "notifs/s", "POST→201 p50", "p99",
		"first friend p50", "p99", "max", "each friend p50", "p99", "max", "last friend p50", "p99",
		"drain", "lost", "dup", "misdirected", "failed", "")
	phases := [][]postResult{warm}
	phaseNames := []string{"warm-up"}
	var cpu [][2]cpuSample // per step: at its start, after its drain
	coldBefore = coldStartCounts(s.Stack)
	sustained, climbErr := climb(ctx, o.post.rates, func(rate float64) ([]string, error) {
		total := o.post.stepTotal(rate)
		posts := make([]postResult, total)
		cpuBefore := sampleCPU()
		begin := time.Now()
		offeredFor, err := openLoop(ctx, rate, total, func(i int) {
			a := i % len(authors)
			posts[i] = sendPost(ctx, authors[a], base, a, fmt.Sprintf("post %d at %g/s", i, rate))
		})
		if err != nil {
			return nil, err
		}
		drainErr := live.waitFor(ctx, posts, o.friends, o.post.drain)
		cpu = append(cpu, [2]cpuSample{cpuBefore, sampleCPU()})
		phases = append(phases, posts)
		phaseNames = append(phaseNames, fmt.Sprintf("%g posts/s", rate))
		st := live.measure(posts, o.friends)
		if st.report(fmt.Sprintf("%g posts/s", rate), drainErr) {
			problems = true
		}
		sent := achieved(total, offeredFor)
		drain := drainAfter(begin.Add(offeredFor), st.lastArrival)
		reasons := saturation(percentile(sorted(st.each), 99), drain, st.missing, st.duplicates, len(st.failures))
		if st.misdirected > 0 {
			reasons = append(reasons, "misdirected")
		}
		row := []string{fmt.Sprint(rate), fmt.Sprintf("%.1f", sent), fmt.Sprintf("%.0f", sent*float64(o.friends))}
		row = append(row, spread(st.respond)[:2]...)
		row = append(row, spread(st.first)...)
		row = append(row, spread(st.each)...)
		row = append(row, spread(st.last)[:2]...)
		row = append(row, ms(drain), fmt.Sprint(st.missing), fmt.Sprint(st.duplicates), fmt.Sprint(st.misdirected), fmt.Sprint(len(st.failures)), verdict(reasons))
		curve.add(row...)
		return reasons, nil
	})
	coldAfter := coldStartCounts(s.Stack)
	fmt.Printf("curve (latencies from POST sent; notifs/s = sent/s × %d friends; last friend: posts every friend got):\n", o.friends)
	curve.flush()
	fmt.Println(sustainedLine(sustained, "posts", o.post.rates))
	if climbErr != nil {
		return climbErr
	}
	fmt.Printf("cold starts during the curve: %s\n", coldDiff(coldBefore, coldAfter))
	for _, name := range []string{"fanout", "notify"} {
		if ss, ok := s.SourceStats(name); ok {
			fmt.Printf("%s KafkaSource: %+v\n", name, ss)
		}
	}

	if err := printPathBreakdown(ctx, s, live, friends, phases, phaseNames, cpu); err != nil {
		fmt.Printf("!!! no breakdown: %v\n", err)
	}

	if unknown := live.unknown(phases...); unknown > 0 {
		problems = true
		fmt.Printf("!!! %d post.created messages named a post this run did not make\n", unknown)
	}
	if closed := live.closedSockets(); len(closed) > 0 {
		problems = true
		fmt.Printf("!!! %d WEBSOCKETS CLOSED before the end, e.g. %s\n", len(closed), closed[0])
	}
	if problems {
		return fmt.Errorf("post benchmark: messages missing, duplicated or misdirected, or posts failed (numbers above)")
	}
	s.ok()
	return nil
}

// member is one person using the API through the gateway: their own cookie
// jar, and the CSRF header the web app sends.
type member struct {
	id     string
	client *http.Client
}

// call sends a JSON request and decodes a 2xx JSON answer into out (when
// not nil); any other answer is an error carrying the problem details.
func (m *member) call(ctx context.Context, base, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "tidings")
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: answer: %w", method, path, err)
	}
	return nil
}

// signUpCrowd signs up the authors and o.friends distinct friends per
// author; friend j of author a is friends[a*o.friends+j]. Signups run
// argon2id, hence the limited parallelism.
func signUpCrowd(ctx context.Context, base string, o options) (authors, friends []*member, err error) {
	transport := &http.Transport{MaxIdleConnsPerHost: 256}
	runID := time.Now().UnixNano()
	people := make([]*member, o.authors*(1+o.friends))
	fmt.Fprintf(os.Stderr, "signing up %d people, %d at a time…\n", len(people), o.setupParallel)
	err = runParallel(ctx, len(people), o.setupParallel, func(i int) error {
		jar, _ := cookiejar.New(nil)
		m := &member{client: &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: transport}}
		r := signUp(ctx, m.client, base, fmt.Sprintf("post-bench-%d-%d@example.com", runID, i))
		if r.err != nil || r.status != http.StatusCreated || r.id == "" {
			return fmt.Errorf("signup %d: %d %s", i, r.status, r.errOrBody())
		}
		m.id = r.id
		people[i] = m
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return people[:o.authors], people[o.authors:], nil
}

// befriend has every author send a request to each of their friends, and
// every friend find it in their list and accept it.
func befriend(ctx context.Context, base string, authors, friends []*member, o options) error {
	per := o.friends
	width := o.setupParallel * 4
	fmt.Fprintf(os.Stderr, "befriending %d pairs…\n", len(friends))
	err := runParallel(ctx, len(friends), width, func(g int) error {
		var req struct{ Status string }
		if err := authors[g/per].call(ctx, base, http.MethodPost, "/api/friends/requests", map[string]string{"userId": friends[g].id}, &req); err != nil {
			return err
		}
		if req.Status != "pending" {
			return fmt.Errorf("friend request %d is %q, want pending", g, req.Status)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return runParallel(ctx, len(friends), width, func(g int) error {
		var list struct {
			Incoming []struct {
				ID   string
				From struct{ ID string }
			}
		}
		if err := friends[g].call(ctx, base, http.MethodGet, "/api/friends/requests", nil, &list); err != nil {
			return err
		}
		author := authors[g/per].id
		for _, r := range list.Incoming {
			if r.From.ID == author {
				return friends[g].call(ctx, base, http.MethodPost, "/api/friends/requests/"+url.PathEscape(r.ID)+"/accept", struct{}{}, nil)
			}
		}
		return fmt.Errorf("friend %d has no incoming request from their author (%d incoming)", g, len(list.Incoming))
	})
}

// runParallel calls do(0..n-1), at most width at a time, and stops starting
// new calls after the first error, which it returns.
func runParallel(ctx context.Context, n, width int, do func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	slots := make(chan struct{}, width)
	for i := range n {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if err := do(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// waitSetupSettled waits until the setup's events have been handled: a
// welcome email per signup and a friend.* notification per request and per
// acceptance, so that the measured posts do not share the machine with them.
func waitSetupSettled(ctx context.Context, s *stack.Stack, signups, friendEvents int, patience time.Duration) error {
	done := func(name string) int64 {
		st, _ := s.SourceStats(name)
		return st.Delivered + st.DeadLettered + st.Dropped
	}
	deadline := time.Now().Add(patience)
	for {
		welcome, notify := done("welcome"), done("notify")
		if welcome >= int64(signups) && notify >= int64(friendEvents) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: welcome handled %d of %d signups, notify %d of %d friend events", patience, welcome, signups, notify, friendEvents)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// printPathBreakdown prints, for each phase, where a notification's time
// went between the stamps the run left (hops.go), and for each rate step
// the CPU each program used.
func printPathBreakdown(ctx context.Context, s *machineStack, live *liveWatch, friends []*member, phases [][]postResult, names []string, cpu [][2]cpuSample) error {
	trace, err := readPathTrace(ctx, s.Backing().KafkaBrokers, s.Backing().KafkaAdmin, s.dbURL)
	if err != nil {
		return err
	}
	for i, posts := range phases {
		segs, total, unstamped := trace.breakdown(posts, func(p postResult) map[string]time.Time {
			return live.arrivals(p, friends)
		})
		printBreakdown(os.Stdout, names[i], segs, total, unstamped)
		if i > 0 && i-1 < len(cpu) {
			printCPU(os.Stdout, cpu[i-1][0], cpu[i-1][1])
		}
	}
	return nil
}

type postResult struct {
	author         int
	id             string
	sent, answered time.Time
	err            error
}

func sendPost(ctx context.Context, author *member, base string, index int, text string) postResult {
	r := postResult{author: index}
	var created struct{ ID string }
	r.sent = time.Now()
	r.err = author.call(ctx, base, http.MethodPost, "/api/posts", map[string]string{"text": text}, &created)
	r.answered = time.Now()
	if r.err == nil && created.ID == "" {
		r.err = errors.New("POST /api/posts: 2xx without an id")
	}
	r.id = created.ID
	return r
}

// liveWatch reads every friend's notification WebSocket and stamps each
// post.created message with its arrival time.
type liveWatch struct {
	mu     sync.Mutex
	seen   map[string][]arrival // post id → its messages, any friend
	other  map[string]int       // messages of other types (friend.* from the setup)
	closed []string             // sockets that ended before we closed them
}

type arrival struct {
	friend int // global friend index
	at     time.Time
}

// open dials every friend's socket with their session cookie and the site's
// public origin, as the web app opened from the printed address does (inbox
// checks Origin against PUBLIC_URL, never the gateway's Host), and starts its reader.
func (l *liveWatch) open(ctx context.Context, base, origin string, friends []*member, width int) (func(), error) {
	fmt.Fprintf(os.Stderr, "opening %d WebSockets…\n", len(friends))
	readCtx, stopReading := context.WithCancel(context.WithoutCancel(ctx))
	conns := make([]*websocket.Conn, len(friends))
	closeAll := func() {
		stopReading()
		for _, c := range conns {
			if c != nil {
				c.Close(websocket.StatusNormalClosure, "bench over") //nolint:errcheck
			}
		}
	}
	u, _ := url.Parse(base)
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api/notifications/stream"
	err := runParallel(ctx, len(friends), width, func(g int) error {
		hdr := http.Header{"Origin": {origin}}
		for _, c := range friends[g].client.Jar.Cookies(u) {
			hdr.Add("Cookie", c.Name+"="+c.Value)
		}
		dialCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(dialCtx, wsURL, &websocket.DialOptions{HTTPHeader: hdr}) //nolint:bodyclose // websocket.Dial's response has no body to close
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			return fmt.Errorf("friend %d's WebSocket: %w (HTTP %d)", g, err, status)
		}
		conns[g] = conn
		go l.read(readCtx, conn, g)
		return nil
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	return closeAll, nil
}

func (l *liveWatch) read(ctx context.Context, conn *websocket.Conn, friend int) {
	for {
		_, msg, err := conn.Read(ctx)
		at := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				l.mu.Lock()
				l.closed = append(l.closed, fmt.Sprintf("friend %d: %v", friend, err))
				l.mu.Unlock()
			}
			return
		}
		var n struct {
			Type   string `json:"type"`
			PostID string `json:"postId"`
		}
		if err := json.Unmarshal(msg, &n); err != nil {
			n.Type = "undecodable"
		}
		l.mu.Lock()
		if n.Type == "post.created" {
			l.seen[n.PostID] = append(l.seen[n.PostID], arrival{friend: friend, at: at})
		} else {
			l.other[n.Type]++
		}
		l.mu.Unlock()
	}
}

// waitFor waits until every created post has reached each of its author's
// friends, for at most patience.
func (l *liveWatch) waitFor(ctx context.Context, posts []postResult, per int, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		missing, expected := 0, 0
		l.mu.Lock()
		for _, p := range posts {
			if p.err != nil {
				continue
			}
			expected += per
			got := map[int]bool{}
			for _, a := range l.seen[p.id] {
				if a.friend/per == p.author {
					got[a.friend] = true
				}
			}
			missing += per - len(got)
		}
		l.mu.Unlock()
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d messages not received within %s", missing, expected, patience)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// arrivals is the first arrival of p at each of its author's friends,
// keyed by the friend's user id.
func (l *liveWatch) arrivals(p postResult, friends []*member) map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]time.Time{}
	for _, a := range l.seen[p.id] {
		id := friends[a.friend].id
		if t, ok := out[id]; !ok || a.at.Before(t) {
			out[id] = a.at
		}
	}
	return out
}

// postStats are one phase's numbers.
type postStats struct {
	respond, each, first, last []time.Duration // last: only posts every friend got
	expected                   int
	missing, duplicates        int
	misdirected                int // reached someone who is not the author's friend
	failures                   []string
	lastArrival                time.Time // of the messages counted
}

func (l *liveWatch) measure(posts []postResult, per int) postStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s postStats
	for _, p := range posts {
		if p.err != nil {
			s.failures = append(s.failures, p.err.Error())
			continue
		}
		s.expected += per
		s.respond = append(s.respond, p.answered.Sub(p.sent))
		earliest := map[int]time.Time{}
		for _, a := range l.seen[p.id] {
			if a.friend/per != p.author {
				s.misdirected++
				continue
			}
			if t, ok := earliest[a.friend]; ok {
				s.duplicates++
				if t.Before(a.at) {
					continue
				}
			}
			earliest[a.friend] = a.at
		}
		s.missing += per - len(earliest)
		if len(earliest) == 0 {
			continue
		}
		var first, last time.Duration = 1<<63 - 1, 0
		for _, at := range earliest {
			if at.After(s.lastArrival) {
				s.lastArrival = at
			}
			d := at.Sub(p.sent)
			s.each = append(s.each, d)
			first, last = min(first, d), max(last, d)
		}
		s.first = append(s.first, first)
		if len(earliest) == per {
			s.last = append(s.last, last)
		}
	}
	return s
}

func (s postStats) table(out io.Writer, per int) {
	t := newLatencyTable(out)
	t.row("POST /api/posts → 201", s.respond)
	t.row("POST sent → WebSocket message, each friend", s.each)
	t.row(fmt.Sprintf("POST sent → first of the %d friends", per), s.first)
	t.row(fmt.Sprintf("POST sent → last of the %d friends", per), s.last)
	t.flush()
}

// report prints what went wrong in a phase, loudly, and says whether
// anything did.
func (s postStats) report(phase string, drainErr error) bool {
	bad := false
	if s.missing > 0 {
		bad = true
		fmt.Printf("!!! %s: %d OF %d MESSAGES MISSING (%v)\n", phase, s.missing, s.expected, drainErr)
	}
	if s.duplicates > 0 {
		bad = true
		fmt.Printf("!!! %s: %d DUPLICATE messages (a friend got the same post twice)\n", phase, s.duplicates)
	}
	if s.misdirected > 0 {
		bad = true
		fmt.Printf("!!! %s: %d messages reached someone who is not the author's friend\n", phase, s.misdirected)
	}
	if len(s.failures) > 0 {
		bad = true
		fmt.Printf("!!! %s: %d POSTS FAILED, e.g. %s\n", phase, len(s.failures), s.failures[0])
	}
	return bad
}

// unknown counts post.created messages for posts neither phase made.
func (l *liveWatch) unknown(phases ...[]postResult) int {
	ours := map[string]bool{}
	for _, posts := range phases {
		for _, p := range posts {
			if p.err == nil {
				ours[p.id] = true
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, as := range l.seen {
		if !ours[id] {
			n += len(as)
		}
	}
	return n
}

func (l *liveWatch) otherTypes() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.other)
}

func (l *liveWatch) closedSockets() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.closed)
}

// coldStartsSince names the Services that cold-started since before was
// taken, with how long each start took.
func coldStartsSince(s *stack.Stack, before map[string]int) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(before)) {
		for _, d := range s.Service(name).ColdStarts()[before[name]:] {
			parts = append(parts, name+" "+ms(d))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
