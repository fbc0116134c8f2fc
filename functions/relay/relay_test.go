package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tidings-dev/tidings/events"
	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/apptest"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// relay builds the relay on the producer's database, sweeping every unsent
// row however young.
func relay(t *testing.T, on *app.App) *Function {
	t.Setenv("RELAY_GRACE", "0s")
	return apptest.Function(t, on, New)
}

func TestAPingResendsWhatProducersLeftUnsent(t *testing.T) {
	sink := apptest.NewSink(t)
	producer := apptest.New(t, "signup", app.Needs{}, sink.URL)
	sink.Down.Store(true)
	err := producer.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		id := uuid.NewString()
		e, err := events.New("/tidings/signup", events.TypeUserSignedUp, id, id,
			events.UserSignedUp{UserID: id, Email: "u1@example.com", Name: "U", SignedUpAt: time.Now().UTC()})
		if err != nil {
			return err
		}
		return tx.Emit(context.Background(), e)
	})
	if err != nil {
		t.Fatal(err)
	}
	producer.Outbox.Wait()
	sink.Down.Store(false)

	// The relay has no K_SINK of its own: each row carries its producer's sink.
	h := relay(t, producer)
	ping := apptest.Request("POST", "/", `{}`)
	rec := apptest.Serve(h, ping)
	var res outbox.Result
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Sent != 1 {
		t.Fatalf("sweep: %d %s", rec.Code, rec.Body)
	}
	if len(sink.Events()) != 1 || sink.Events()[0].Type() != events.TypeUserSignedUp {
		t.Fatalf("sink got %v", sink.Events())
	}
	if rec := apptest.Serve(h, apptest.Request("POST", "/", `{}`)); rec.Body.String() != "{\"sent\":0,\"failed\":0}\n" {
		t.Fatalf("a second ping resent: %s", rec.Body)
	}
	if rec := apptest.Serve(h, apptest.Request("GET", "/", "")); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
}

func TestAPingWhileTheSinkIsStillDownKeepsTheEvent(t *testing.T) {
	sink := apptest.NewSink(t)
	producer := apptest.New(t, "signup", app.Needs{}, sink.URL)
	sink.Down.Store(true)
	_ = producer.Outbox.Run(context.Background(), func(tx *outbox.Tx) error {
		id := uuid.NewString()
		e, err := events.New("/tidings/signup", events.TypeUserSignedUp, id, id,
			events.UserSignedUp{UserID: id, Email: "u2@example.com", Name: "U", SignedUpAt: time.Now().UTC()})
		if err != nil {
			return err
		}
		return tx.Emit(context.Background(), e)
	})
	producer.Outbox.Wait()
	rec := apptest.Serve(relay(t, producer), apptest.Request("POST", "/", `{}`))
	var res outbox.Result
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Failed != 1 || res.Sent != 0 {
		t.Fatalf("sweep with the sink down: %d %s", rec.Code, rec.Body)
	}
	if n := apptest.Count(t, producer.Pool, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND attempts = 2`); n != 1 {
		t.Fatalf("the event is not kept unsent with its attempts counted (%d)", n)
	}
}
