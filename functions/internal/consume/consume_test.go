package consume_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/jackc/pgx/v5"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/consume"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// u1 is a user id as Postgres makes them.
const u1 = "0b6f1c2e-8d3a-4c5b-9e7f-1a2b3c4d5e6f"

func signedUp(t *testing.T) event.Event {
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, u1, u1,
		events.UserSignedUp{UserID: u1, Email: "u1@example.com", Name: "U", SignedUpAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Concurrent deliveries of one event (a rebalance, an unordered source)
// apply it once: the second waits on the first's ledger row, then sees it.
func TestConcurrentDuplicatesApplyOnce(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	var applied atomic.Int32
	h := consume.Handler("counter", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		applied.Add(1)
		_, err := tx.Exec(ctx, `SELECT pg_sleep(0.05)`) // hold the ledger row a while
		return err
	})
	e := signedUp(t)
	var wg sync.WaitGroup
	codes := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- apptest.Deliver(t, h, e).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("a delivery answered %d", c)
		}
	}
	if n := applied.Load(); n != 1 {
		t.Fatalf("the effect ran %d times", n)
	}
}

func TestStatusCodesTellTheDispatcherWhatToDo(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	var fail error
	h := consume.Handler("status", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(context.Context, *outbox.Tx, event.Event) error {
		return fail
	})
	fail = errors.New("database hiccup")
	if rec := apptest.Deliver(t, h, signedUp(t)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("retryable failure: %d, want 500", rec.Code)
	}
	fail = consume.Permanent(errors.New("refers to nothing"))
	rec := apptest.Deliver(t, h, signedUp(t))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "refers to nothing") {
		t.Fatalf("permanent failure: %d %s, want 400 with the reason", rec.Code, rec.Body)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`); n != 0 {
		t.Fatalf("failed events were recorded as processed: %d", n)
	}
	fail = nil
	if rec := apptest.Serve(h, apptest.Request("GET", "/", "")); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
	big := apptest.Request("POST", "/", `{"specversion":"1.0","id":"x","source":"/s","type":"`+events.TypeUserSignedUp+`","data":"`+strings.Repeat("x", consume.MaxEventBytes)+`"}`)
	big.Header.Set("Content-Type", "application/cloudevents+json")
	if rec := apptest.Serve(h, big); rec.Code != http.StatusBadRequest {
		t.Fatalf("oversized event: %d, want 400", rec.Code)
	}
}

// An attribute with a control character is a bad event: 400, so the
// dispatcher dead-letters it with the reason. It never reaches the effect,
// and never the ledger, where a NUL would make Postgres fail (a 500, retried
// as if the database were down).
func TestControlCharactersInAttributesAreRejected(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	ran := false
	h := consume.Handler("ctl", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(context.Context, *outbox.Tx, event.Event) error {
		ran = true
		return nil
	})
	for name, set := range map[string]func(*event.Event){
		"id with CR LF":        func(e *event.Event) { e.SetID("a\r\nb") },
		"id with NUL":          func(e *event.Event) { e.SetID("a\x00b") },
		"subject with tab":     func(e *event.Event) { e.SetSubject("a\tb") },
		"partitionkey with LF": func(e *event.Event) { e.SetExtension(events.PartitionKeyExtension, "a\nb") },
		"extension with DEL":   func(e *event.Event) { e.SetExtension("traceparent", "a\x7fb") },
	} {
		t.Run(name, func(t *testing.T) {
			e := signedUp(t)
			set(&e)
			rec := apptest.Deliver(t, h, e)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "control character") {
				t.Fatalf("status %d: %s, want 400 naming the control character", rec.Code, rec.Body)
			}
		})
	}
	// Structured mode carries the id in the body, where a NUL travels fine.
	e := signedUp(t)
	raw, _ := e.MarshalJSON()
	req := apptest.Request("POST", "/", strings.Replace(string(raw), `"id":"`, `"id":"\u0000`, 1))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	if rec := apptest.Serve(h, req); rec.Code != http.StatusBadRequest {
		t.Fatalf("structured event with a NUL id: %d %s, want 400", rec.Code, rec.Body)
	}
	if ran || apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events`) != 0 {
		t.Fatal("an event with a control character was applied")
	}
}

// A Postgres data error (SQLSTATE class 22) or integrity violation (class
// 23) comes back the same on every retry: the event is dead-lettered at once
// with the reason, not retried as a 500.
func TestDataErrorsArePermanent(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	var sql string
	var args []any
	h := consume.Handler("data", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		_, err := tx.Exec(ctx, sql, args...)
		return err
	})
	for _, c := range []struct {
		name, sql, code string
		args            []any
	}{
		{"not a uuid", `SELECT $1::uuid`, "22P02", []any{"nope"}},
		{"NUL in text", `SELECT $1::text`, "22021", []any{"a\x00b"}},
		{"division by zero", `SELECT 1 / $1::int`, "22012", []any{0}},
		{"unique violation", `INSERT INTO processed_events (consumer, event_source, event_id) VALUES ('x', 'y', 'z'), ('x', 'y', 'z')`, "23505", nil},
		{"foreign key", `INSERT INTO friendships (user_id, friend_id) VALUES (gen_random_uuid(), gen_random_uuid())`, "23503", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			sql, args = c.sql, c.args
			rec := apptest.Deliver(t, h, signedUp(t))
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.code) {
				t.Fatalf("status %d: %s, want 400 with SQLSTATE %s", rec.Code, rec.Body, c.code)
			}
		})
	}
	sql, args = `SELECT pg_sleep(0) FROM no_such_table`, nil // 42P01: a bug in the consumer, worth a retry after a fix
	if rec := apptest.Deliver(t, h, signedUp(t)); rec.Code != http.StatusInternalServerError {
		t.Fatalf("undefined table: %d, want 500", rec.Code)
	}
}

// grouped is a consumer whose deliveries share transactions; its effect
// records each event with the transaction it ran in. The event about
// "slow" holds its group open a while so that the others queue into one
// group behind it.
func grouped(t *testing.T, a *app.App, fail map[string]error) http.Handler {
	t.Helper()
	// clash is checked at commit: two events of one group that both set it
	// make the commit itself fail.
	if _, err := a.Pool.Exec(context.Background(), `CREATE TABLE IF NOT EXISTS grouped_effects (event_id text PRIMARY KEY, txid bigint NOT NULL,
		clash text UNIQUE DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	return consume.Handler("grouped", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		var clash *string
		if strings.HasPrefix(e.Subject(), "clash") {
			clash = new(string)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO grouped_effects (event_id, txid, clash) VALUES ($1, txid_current(), $2)`, e.ID(), clash); err != nil {
			return err
		}
		if e.Subject() == "slow" {
			if _, err := tx.Exec(ctx, `SELECT pg_sleep(0.3)`); err != nil {
				return err
			}
		}
		return fail[e.Subject()]
	}, consume.GroupCommit(32, 1))
}

func eventAbout(t *testing.T, subject string) event.Event {
	e, err := events.New("/tidings/signup", events.TypeUserSignedUp, subject, u1,
		events.UserSignedUp{UserID: u1, Email: "u1@example.com", Name: "U", SignedUpAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// deliverAll delivers the slow event, then the others while it is being
// applied, all at once, and returns each one's status by subject. Every
// answer must find its event committed: an ordered source sends a
// partition's next record only after this answer.
func deliverAll(t *testing.T, a *app.App, h http.Handler, others ...event.Event) map[string]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	deliver := func(e event.Event) {
		defer wg.Done()
		code := apptest.Deliver(t, h, e).Code
		committed := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events WHERE consumer = 'grouped' AND event_id = $1`, e.ID())
		mu.Lock()
		defer mu.Unlock()
		codes[e.Subject()] = code
		if code == http.StatusOK && committed != 1 {
			t.Errorf("%s answered 200 before its group committed", e.Subject())
		}
	}
	wg.Add(1)
	go deliver(eventAbout(t, "slow"))
	time.Sleep(100 * time.Millisecond) // the slow one's group is open
	for _, e := range others {
		wg.Add(1)
		go deliver(e)
	}
	wg.Wait()
	return codes
}

// Deliveries that arrive while a group is being applied share the next
// transaction, and each is answered only once it committed.
func TestConcurrentDeliveriesShareACommit(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	h := grouped(t, a, nil)
	var others []event.Event
	for i := range 10 {
		others = append(others, eventAbout(t, "e"+strconv.Itoa(i)))
	}
	for subject, code := range deliverAll(t, a, h, others...) {
		if code != http.StatusOK {
			t.Errorf("%s answered %d", subject, code)
		}
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM grouped_effects`); n != 11 {
		t.Fatalf("%d effects, want 11", n)
	}
	// The slow one alone, then the ten that queued behind it together.
	if n := apptest.Count(t, a.Pool, `SELECT count(DISTINCT txid) FROM grouped_effects`); n != 2 {
		t.Fatalf("11 deliveries ran in %d transactions, want 2", n)
	}
}

// In a group, an event that fails is rolled back alone and answered with
// its own status (400 permanent, 500 retried); the others commit once, and
// a duplicate of an event in the same group applies once.
func TestAFailureInAGroupTouchesOnlyItsEvent(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	h := grouped(t, a, map[string]error{
		"bad":   consume.Permanent(errors.New("never")),
		"flaky": errors.New("for now"),
	})
	ok1, ok2 := eventAbout(t, "ok1"), eventAbout(t, "ok2")
	dup := ok2.Clone() // the same event again: same source and id
	dup.SetSubject("ok2-again")
	codes := deliverAll(t, a, h, ok1, eventAbout(t, "bad"), ok2, eventAbout(t, "flaky"), dup)
	want := map[string]int{"slow": 200, "ok1": 200, "bad": 400, "ok2": 200, "flaky": 500, "ok2-again": 200}
	for subject, code := range want {
		if codes[subject] != code {
			t.Errorf("%s answered %d, want %d", subject, codes[subject], code)
		}
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM grouped_effects`); n != 3 {
		t.Fatalf("%d effects, want 3 (slow, ok1, ok2 once)", n)
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events WHERE consumer = 'grouped'`); n != 3 {
		t.Fatalf("%d ledger rows, want 3: the failed events are not recorded", n)
	}
	// The group's connection is sound after the failures.
	if code := apptest.Deliver(t, h, eventAbout(t, "later")).Code; code != http.StatusOK {
		t.Fatalf("a later delivery answered %d", code)
	}
}

// A group whose commit fails answers 500 to all its events, so that each is
// retried, even when the failure is a constraint (which answers 400 for a
// lone event): no event of the group is known to be the cause.
func TestAFailedGroupCommitIsRetriedForAll(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	h := grouped(t, a, nil)
	codes := deliverAll(t, a, h, eventAbout(t, "clash1"), eventAbout(t, "ok"), eventAbout(t, "clash2"))
	want := map[string]int{"slow": 200, "clash1": 500, "ok": 500, "clash2": 500}
	for subject, code := range want {
		if codes[subject] != code {
			t.Errorf("%s answered %d, want %d", subject, codes[subject], code)
		}
	}
	if n := apptest.Count(t, a.Pool, `SELECT count(*) FROM processed_events WHERE consumer = 'grouped'`); n != 1 {
		t.Fatalf("%d ledger rows, want 1 (the slow one's group)", n)
	}
	if code := apptest.Deliver(t, h, eventAbout(t, "ok-later")).Code; code != http.StatusOK {
		t.Fatalf("a later event answered %d", code)
	}
}

// An ordered KafkaSource sends a partition's next record only once the last
// one was answered; under group commit each key's events are still applied
// in their order, while different keys share transactions.
func TestGroupCommitKeepsEachKeysOrder(t *testing.T) {
	a := apptest.New(t, "consume-test", app.Needs{}, "")
	if _, err := a.Pool.Exec(context.Background(), `CREATE TABLE grouped_order (key text NOT NULL, seq int NOT NULL, applied bigserial, txid bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	h := consume.Handler("ordered", a.Outbox, a.Log, []string{events.TypeUserSignedUp}, func(ctx context.Context, tx *outbox.Tx, e event.Event) error {
		key, seq, _ := strings.Cut(e.Subject(), "/")
		_, err := tx.Exec(ctx, `INSERT INTO grouped_order (key, seq, txid) VALUES ($1, $2, txid_current())`, key, seq)
		return err
	}, consume.GroupCommit(8, 2))
	const keys, per = 12, 15
	var wg sync.WaitGroup
	for k := range keys {
		wg.Add(1)
		go func() { // one partition: each record after the last one's answer
			defer wg.Done()
			for i := range per {
				if code := apptest.Deliver(t, h, eventAbout(t, fmt.Sprintf("k%d/%d", k, i))).Code; code != http.StatusOK {
					t.Errorf("k%d/%d answered %d", k, i, code)
					return
				}
			}
		}()
	}
	wg.Wait()
	rows, err := a.Pool.Query(context.Background(), `SELECT key, seq FROM grouped_order ORDER BY applied`)
	if err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	var key string
	var seq, n int
	if _, err := pgx.ForEachRow(rows, []any{&key, &seq}, func() error {
		if seq != next[key] {
			return fmt.Errorf("key %s: event %d applied where %d was due", key, seq, next[key])
		}
		next[key]++
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != keys*per {
		t.Fatalf("%d applied, want %d", n, keys*per)
	}
	if tx := apptest.Count(t, a.Pool, `SELECT count(DISTINCT txid) FROM grouped_order`); tx >= keys*per {
		t.Fatalf("%d transactions for %d events: no group formed", tx, keys*per)
	}
}
