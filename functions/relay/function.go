package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/problem"
)

// Name is the function's Knative Service.
const Name = "relay"

// Needs are the backing services the runtime connects for it. The relay has
// no K_SINK of its own: each outbox row carries its producer's sink.
var Needs = app.Needs{}

// Function sweeps the outbox on every POST.
type Function struct {
	http.Handler
	outbox *outbox.Outbox
	log    *slog.Logger
	// grace leaves rows younger than this to the sends their producers
	// started themselves (RELAY_GRACE, default 10s).
	grace time.Duration
}

// New builds the function on the runtime's connections.
func New(a *app.App) (*Function, error) {
	grace, err := config.Duration("RELAY_GRACE", 10*time.Second)
	if err != nil {
		return nil, err
	}
	f := &Function{outbox: a.Outbox, log: a.Log, grace: grace}
	f.Handler = http.HandlerFunc(f.sweep)
	return f, nil
}

// sweep answers any POST (the PingSource's CloudEvent, or an operator's
// curl) with one sweep.
func (f *Function) sweep(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		problem.Write(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "POST to sweep the outbox.")
		return
	}
	res, err := f.outbox.Sweep(r.Context(), f.grace, 1000)
	if res.Sent > 0 || res.Failed > 0 {
		f.log.InfoContext(r.Context(), "outbox swept", "sent", res.Sent, "failed", res.Failed)
	}
	if err != nil {
		// 200 all the same: the failed rows stay unsent for the next tick,
		// and a retry of this ping would only sweep again.
		f.log.WarnContext(r.Context(), "some events are still unsent", "err", err)
	}
	jsonbody.Write(w, http.StatusOK, res)
}
