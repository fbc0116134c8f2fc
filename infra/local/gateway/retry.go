package gateway

import (
	"net/http"
	"time"

	"github.com/tidings-dev/tidings/knative/topology"
)

// retries reports whether the gateway may send r again under its rule's
// retry policy: only reads (the manifests' checker allows a retry only on
// GET and HEAD rules, infra/cluster/http-route.yaml) and never a WebSocket
// upgrade, whose connection the backend takes over.
func retries(rule Rule, r *http.Request) bool {
	return rule.Retry != nil && rule.Retry.Attempts > 0 &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("Upgrade") == ""
}

// serveWithRetry sends r to h, and again up to Attempts more times while
// the answer has one of the policy's codes, waiting Backoff between tries, as
// GEP-1731 describes (kubernetes-sigs/gateway-api apis/v1/httproute_types.go,
// HTTPRouteRetry). A retried answer is dropped before anything reaches the
// client; the last try's answer, whatever it is, goes out as it is. A read has
// no body, so nothing needs buffering to be sent again.
func (g *Gateway) serveWithRetry(w http.ResponseWriter, r *http.Request, h http.Handler, retry *topology.Retry, backend string) {
	for attempt := 0; attempt < retry.Attempts; attempt++ {
		try := &tryWriter{w: w, retry: retry, header: http.Header{}}
		h.ServeHTTP(try, r.Clone(r.Context()))
		if !try.dropped {
			try.passHeader() // an answer with no body and no WriteHeader
			return
		}
		g.log.Info("retrying", "method", r.Method, "path", r.URL.Path, "backend", backend,
			"status", try.code, "attempt", attempt+1, "backoff", retry.Backoff)
		t := time.NewTimer(retry.Backoff)
		select {
		case <-r.Context().Done():
			t.Stop()
			return // the client went away: nothing to answer
		case <-t.C:
		}
	}
	h.ServeHTTP(w, r)
}

// tryWriter holds one try's header until its status is known: a status the
// policy retries is dropped with its body, any other goes to w.
type tryWriter struct {
	w       http.ResponseWriter
	retry   *topology.Retry
	header  http.Header
	code    int
	decided bool
	dropped bool
}

func (t *tryWriter) Header() http.Header {
	if t.decided && !t.dropped {
		return t.w.Header()
	}
	return t.header
}

func (t *tryWriter) WriteHeader(code int) {
	if t.decided {
		if !t.dropped {
			t.w.WriteHeader(code) // net/http ignores a second final status, as usual
		}
		return
	}
	if code >= 100 && code < 200 {
		return // informational: not the answer (and never sent for a retried try)
	}
	t.code, t.decided = code, true
	if t.retry.Retries(code) {
		t.dropped = true
		return
	}
	t.passHeader()
	t.w.WriteHeader(code)
}

// passHeader copies the held header to the client's response.
func (t *tryWriter) passHeader() {
	if len(t.header) == 0 {
		return
	}
	dst := t.w.Header()
	for k, v := range t.header {
		dst[k] = v
	}
	t.header = http.Header{}
}

func (t *tryWriter) Write(b []byte) (int, error) {
	if !t.decided {
		t.WriteHeader(http.StatusOK)
	}
	if t.dropped {
		return len(b), nil
	}
	return t.w.Write(b)
}

func (t *tryWriter) Flush() {
	if t.decided && !t.dropped {
		http.NewResponseController(t.w).Flush()
	}
}
