// Command relay is the outbox sweeper. A PingSource wakes it every minute; it
// resends every outbox event that its producer could not deliver (the
// KafkaSink was down, or the producer died between commit and send).
package main

import (
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/app"
	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/jsonbody"
	"github.com/tidings-dev/tidings/functions/internal/outbox"
	"github.com/tidings-dev/tidings/functions/internal/problem"
)

func main() {
	app.Main("relay", app.Needs{}, func(a *app.App) (http.Handler, error) {
		grace, err := config.Duration("RELAY_GRACE", 10*time.Second)
		if err != nil {
			return nil, err
		}
		return sweepHandler(a.Outbox, grace, a), nil
	})
}

// sweepHandler answers any POST (the PingSource's CloudEvent, or an operator's
// curl) with one sweep. Rows younger than grace are left to the sends their
// producers started themselves.
func sweepHandler(ob *outbox.Outbox, grace time.Duration, a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			problem.Write(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", "POST to sweep the outbox.")
			return
		}
		res, err := ob.Sweep(r.Context(), grace, 1000)
		if res.Sent > 0 || res.Failed > 0 {
			a.Log.InfoContext(r.Context(), "outbox swept", "sent", res.Sent, "failed", res.Failed)
		}
		if err != nil {
			// 200 all the same: the failed rows stay unsent for the next tick,
			// and a retry of this ping would only sweep again.
			a.Log.WarnContext(r.Context(), "some events are still unsent", "err", err)
		}
		jsonbody.Write(w, http.StatusOK, res)
	})
}
