package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// feedOptions are the feed benchmark's knobs.
type feedOptions struct {
	graph       graphSizes
	sessions    int        // seeded users logged in, whose feeds are read
	concurrency numberList // closed-loop readers per level
	step        time.Duration
	limit       int
	nextShare   float64 // share of first pages followed by their second page
	via         string  // "gateway" or "post"
}

func (f *feedOptions) flags(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&f.graph.users, prefix+"users", f.graph.users, "users to seed")
	fs.IntVar(&f.graph.friends, prefix+"friends", f.graph.friends, "friends per user (even)")
	fs.IntVar(&f.graph.posts, prefix+"posts", f.graph.posts, "posts to seed")
	fs.IntVar(&f.sessions, prefix+"sessions", f.sessions, "seeded users to log in through POST /api/login (argon2id each); every read is one of their feeds, at random")
	fs.Var(&f.concurrency, prefix+"concurrency", "concurrent readers to climb through, comma-separated (closed loop: each sends its next read when the last is answered)")
	fs.DurationVar(&f.step, prefix+"step", f.step, "how long each concurrency level reads")
	fs.IntVar(&f.limit, prefix+"limit", f.limit, "posts per page (?limit=)")
	fs.Float64Var(&f.nextShare, prefix+"next-pages", f.nextShare, "share of first pages followed by a read of their second page (?cursor=)")
	fs.StringVar(&f.via, prefix+"via", f.via, `where the reads go: "gateway" (as the web app) or "post" (the post Service's own address, past the gateway)`)
}

// feedReads seeds a social graph with SQL straight into the stack's scratch
// database, logs seeded users in through POST /api/login, and reads their
// feeds (GET /api/posts) with 1, 2, 4, … closed-loop readers, each level for
// a fixed time, to find where throughput stops growing.
func feedReads(ctx context.Context, repo string, o options) error {
	f := o.feed
	heading(fmt.Sprintf("feed reads (GET /api/posts), %d users, %d friends each, %d posts, climbing concurrency", f.graph.users, f.graph.friends, f.graph.posts))
	if err := f.graph.check(); err != nil {
		return err
	}
	if len(f.concurrency) == 0 || f.step <= 0 || f.sessions < 1 || f.limit < 1 || f.nextShare < 0 || f.nextShare > 1 {
		return fmt.Errorf("-concurrency, -step, -sessions and -limit must be positive and -next-pages within 0..1")
	}
	if f.via != "gateway" && f.via != "post" {
		return fmt.Errorf(`-via must be "gateway" or "post", not %q`, f.via)
	}
	s, err := upOnMachine(ctx, repo, "feed", o)
	if err != nil {
		return err
	}
	defer s.close(ctx)
	base := s.GatewayURL
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}

	if err := waitForSchema(ctx, client, base, s.Backing().DatabaseURL); err != nil {
		return err
	}
	seedStart := time.Now()
	fmt.Fprintf(os.Stderr, "seeding %d users, %d friendships, %d posts…\n", f.graph.users, f.graph.users*f.graph.friends, f.graph.posts)
	if err := seedGraph(ctx, s.Backing().DatabaseURL, f.graph); err != nil {
		return err
	}
	seedTook := time.Since(seedStart)
	cookies, err := logInSeeded(ctx, client, base, f.graph.users, min(f.sessions, f.graph.users), o.setupParallel)
	if err != nil {
		return err
	}
	target := base
	if f.via == "post" {
		target = s.ServiceURL("post")
	}
	r := &feedReader{client: client, url: target + "/api/posts", limit: f.limit, nextShare: f.nextShare, cookies: cookies}

	// Warm-up: caches, connections, the post function's cold start.
	warm := r.level(ctx, 1, 200, 0)
	if warm.errors > 0 {
		return fmt.Errorf("warm-up reads failed: %d of %d, e.g. %s", warm.errors, warm.reads(), warm.firstErr)
	}

	fmt.Printf("conditions: whole local stack, reads %s → post → Postgres %s (scratch database); sessions in Redis %s\n", map[string]string{"gateway": "through the gateway", "post": "at the post Service's address (past the gateway)"}[f.via], redactURL(o.postgres), o.redis)
	fmt.Printf("            seeded with SQL in %s; %d seeded users logged in through POST /api/login, each read one of their feeds at random\n", seedTook.Round(100*time.Millisecond), len(cookies))
	fmt.Printf("            ?limit=%d; %.0f%% of first pages followed by their second (?cursor=), each GET counted as one read;\n", f.limit, f.nextShare*100)
	fmt.Printf("            closed loop, each level %s; the bench's readers share the %d cores with the stack\n", f.step, runtime.NumCPU())
	curve := newTable(os.Stdout, "readers", "reads", "reads/s", "p50", "p99", "max", "errors", "posts/read")
	var results []feedLevel
	for _, c := range f.concurrency {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(os.Stderr, "level: %d readers…\n", int(c))
		l := r.level(ctx, int(c), 0, f.step)
		results = append(results, l)
		row := []string{fmt.Sprint(int(c)), fmt.Sprint(l.reads()), fmt.Sprintf("%.0f", l.perSecond())}
		row = append(row, spread(l.latency)...)
		row = append(row, fmt.Sprint(l.errors), fmt.Sprintf("%.1f", l.postsPerRead()))
		curve.add(row...)
	}
	curve.flush()
	fmt.Println(feedSaturation(results))
	errs := 0
	for _, l := range results {
		errs += l.errors
		if l.errors > 0 {
			fmt.Printf("!!! %d readers: %d READS FAILED, e.g. %s\n", l.readers, l.errors, l.firstErr)
		}
	}
	if errs > 0 {
		return fmt.Errorf("feed benchmark: %d reads failed (numbers above)", errs)
	}
	s.ok()
	return nil
}

// waitForSchema makes sure the schema is in the scratch database before
// seeding: the first request to post cold-starts it, which applies the
// migrations (the same request is harmless when the stack applied them).
func waitForSchema(ctx context.Context, client *http.Client, base, dbURL string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/posts", nil)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET /api/posts to start post: %w", err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("GET /api/posts without a session answered %s, want 401", resp.Status)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ready bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('public.posts') IS NOT NULL AND to_regclass('public.friendships') IS NOT NULL`).Scan(&ready)
	if err != nil || !ready {
		return fmt.Errorf("no posts and friendships tables after post started (%v): are the migrations applied?", err)
	}
	return nil
}

// logInSeeded logs in n seeded users spread evenly over all of them and
// returns each one's Cookie header.
func logInSeeded(ctx context.Context, client *http.Client, base string, users, n, width int) ([]string, error) {
	fmt.Fprintf(os.Stderr, "logging in %d seeded users, %d at a time…\n", n, width)
	u, _ := url.Parse(base)
	cookies := make([]string, n)
	err := runParallel(ctx, n, width, func(k int) error {
		jar, _ := cookiejar.New(nil)
		m := &member{client: &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: client.Transport}}
		i := 1 + k*users/n
		if err := m.call(ctx, base, http.MethodPost, "/api/login", map[string]string{"email": seededEmail(i), "password": seededPassword}, nil); err != nil {
			return fmt.Errorf("log in seeded user %d: %w", i, err)
		}
		var parts []string
		for _, c := range jar.Cookies(u) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		if len(parts) == 0 {
			return fmt.Errorf("log in seeded user %d: no cookie set", i)
		}
		cookies[k] = strings.Join(parts, "; ")
		return nil
	})
	return cookies, err
}

// feedReader reads feeds as the web app does.
type feedReader struct {
	client    *http.Client
	url       string
	limit     int
	nextShare float64
	cookies   []string
}

// feedLevel is one concurrency level's numbers.
type feedLevel struct {
	readers  int
	took     time.Duration
	latency  []time.Duration // answered reads
	errors   int
	posts    int
	firstErr string
}

func (l feedLevel) reads() int { return len(l.latency) + l.errors }

func (l feedLevel) perSecond() float64 {
	if l.took <= 0 {
		return 0
	}
	return float64(len(l.latency)) / l.took.Seconds()
}

func (l feedLevel) postsPerRead() float64 {
	if len(l.latency) == 0 {
		return 0
	}
	return float64(l.posts) / float64(len(l.latency))
}

// level runs readers closed-loop readers until each made count reads (when
// count > 0) or for d.
func (r *feedReader) level(ctx context.Context, readers, count int, d time.Duration) feedLevel {
	parts := make([]feedLevel, readers)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(w), uint64(begin.UnixNano())))
			p := &parts[w]
			for n := 0; ctx.Err() == nil && (count > 0 && n < count || count == 0 && time.Now().Before(deadline)); n++ {
				cookie := r.cookies[rng.IntN(len(r.cookies))]
				next := r.read(ctx, cookie, "", p)
				if next != "" && rng.Float64() < r.nextShare {
					r.read(ctx, cookie, next, p)
				}
			}
		}()
	}
	wg.Wait()
	total := feedLevel{readers: readers, took: time.Since(begin)}
	for _, p := range parts {
		total.latency = append(total.latency, p.latency...)
		total.errors += p.errors
		total.posts += p.posts
		if total.firstErr == "" {
			total.firstErr = p.firstErr
		}
	}
	return total
}

// read sends one GET /api/posts and returns the next page's cursor.
func (r *feedReader) read(ctx context.Context, cookie, cursor string, into *feedLevel) string {
	q := url.Values{"limit": {fmt.Sprint(r.limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"?"+q.Encode(), nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-Requested-With", "tidings")
	fail := func(msg string) string {
		if ctx.Err() != nil {
			return "" // the run is ending; not the stack's failure
		}
		into.errors++
		if into.firstErr == "" {
			into.firstErr = msg
		}
		return ""
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		return fail(err.Error())
	}
	defer resp.Body.Close()
	var page struct {
		Posts      []struct{ ID string }
		NextCursor *string
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fail(resp.Status + " " + strings.TrimSpace(string(b)))
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return fail("answer: " + err.Error())
	}
	into.latency = append(into.latency, time.Since(start))
	into.posts += len(page.Posts)
	if page.NextCursor == nil {
		return ""
	}
	return *page.NextCursor
}

// feedSaturation names the knee of the curve: the fewest readers that reach
// nine tenths of the best throughput. More readers past it only queue (a
// knee found by comparing neighbours would trip over one noisy level).
func feedSaturation(levels []feedLevel) string {
	best := 0
	for i, l := range levels {
		if l.perSecond() > levels[best].perSecond() {
			best = i
		}
	}
	knee := 0
	for knee < best && levels[knee].perSecond() < 0.9*levels[best].perSecond() {
		knee++
	}
	last := len(levels) - 1
	if knee == last && last > 0 {
		return fmt.Sprintf("saturation: not reached; reads/s still grew from %d to %d readers (%.0f → %.0f reads/s)",
			levels[last-1].readers, levels[last].readers, levels[last-1].perSecond(), levels[last].perSecond())
	}
	return fmt.Sprintf("saturation: at %d readers, %.0f reads/s (within a tenth of the best, %.0f reads/s at %d readers)",
		levels[knee].readers, levels[knee].perSecond(), levels[best].perSecond(), levels[best].readers)
}
