package stack

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/tidings-dev/tidings/infra/local/eventing/kafkasource"
)

// StatusPath is where the gateway serves the stack's one-page status: what
// `kn service list`, `kubectl get kafkasources` and a dashboard of consumer
// lag and the outbox would show on a cluster. It is the local stack's own
// page; a cluster has no such route.
const StatusPath = "/_/status"

// Status is a snapshot of the running stack.
type Status struct {
	At       time.Time       `json:"at"`
	Services []ServiceStatus `json:"services"`
	Sources  []SourceStatus  `json:"sources"`
	Outbox   OutboxStatus    `json:"outbox"`
}

// ServiceStatus is one Knative Service: scaled to zero or running, and its
// cold starts (exec → ready).
type ServiceStatus struct {
	Name          string  `json:"name"`
	State         string  `json:"state"`
	ColdStarts    int     `json:"coldStarts"`
	LastColdStart float64 `json:"lastColdStartMs,omitempty"`
}

// SourceStatus is one KafkaSource: its dispatcher's counts and its consumer
// group's lag (records on its topics not yet committed).
type SourceStatus struct {
	Name     string   `json:"name"`
	Topics   []string `json:"topics"`
	Ordering string   `json:"ordering"`
	Lag      int64    `json:"lag"`
	LagError string   `json:"lagError,omitempty"`
	kafkasource.Stats
}

// OutboxStatus is the events committed but not yet sent to a KafkaSink,
// over every producer (they share one outbox table), and the age of the
// oldest: the relay's backlog.
type OutboxStatus struct {
	Unsent       int64   `json:"unsent"`
	OldestAgeSec float64 `json:"oldestAgeSeconds"`
	Error        string  `json:"error,omitempty"`
}

// Status reads the snapshot. Kafka or Postgres being down is reported in the
// snapshot, not as an error: the page is most useful then.
func (s *Stack) Status(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st := Status{At: time.Now().UTC()}
	for name, svc := range s.services {
		cs := svc.ColdStarts()
		ss := ServiceStatus{Name: name, State: string(svc.State()), ColdStarts: len(cs)}
		if len(cs) > 0 {
			ss.LastColdStart = float64(cs[len(cs)-1].Microseconds()) / 1000
		}
		st.Services = append(st.Services, ss)
	}
	sort.Slice(st.Services, func(i, j int) bool { return st.Services[i].Name < st.Services[j].Name })

	lags, lagErr := s.consumerLags(ctx)
	for _, src := range s.topo.KafkaSources {
		ss := SourceStatus{Name: src.Name, Topics: src.Topics, Ordering: src.Ordering}
		if d, ok := s.dispatchers[src.Name]; ok {
			ss.Stats = d.Stats()
		}
		switch l, ok := lags[src.ConsumerGroup]; {
		case lagErr != nil:
			ss.LagError = lagErr.Error()
		case !ok:
			ss.LagError = "group not described"
		case l.Error() != nil:
			ss.LagError = l.Error().Error()
		default:
			ss.Lag = l.Lag.Total()
		}
		st.Sources = append(st.Sources, ss)
	}
	sort.Slice(st.Sources, func(i, j int) bool { return st.Sources[i].Name < st.Sources[j].Name })

	st.Outbox = s.outboxBacklog(ctx)
	return st
}

func (s *Stack) consumerLags(ctx context.Context) (kadm.DescribedGroupLags, error) {
	cl, err := adminClient(s.backing.KafkaBrokers, s.backing.KafkaAdmin)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	groups := make([]string, 0, len(s.topo.KafkaSources))
	for _, src := range s.topo.KafkaSources {
		groups = append(groups, src.ConsumerGroup)
	}
	return kadm.NewClient(cl).Lag(ctx, groups...)
}

func (s *Stack) outboxBacklog(ctx context.Context) OutboxStatus {
	conn, err := pgx.Connect(ctx, s.backing.DatabaseURL)
	if err != nil {
		return OutboxStatus{Error: err.Error()}
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ob OutboxStatus
	err = conn.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE sent_at IS NULL`).Scan(&ob.Unsent, &ob.OldestAgeSec)
	if err != nil {
		return OutboxStatus{Error: err.Error()}
	}
	return ob
}

// statusHandler serves the snapshot as HTML, or as JSON when the client
// asks for application/json (or ?format=json).
func (s *Stack) statusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "GET the status", http.StatusMethodNotAllowed)
			return
		}
		st := s.Status(r.Context())
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(st) //nolint:errcheck // the client went away
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		statusPage.Execute(w, st) //nolint:errcheck // the client went away
	})
}

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Tidings — local stack status</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#1a1a1a}table{border-collapse:collapse;margin-bottom:2rem}
th,td{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}th{background:#eee}.bad{color:#a00000}</style></head>
<body><h1>Local stack status</h1><p>{{.At.Format "2006-01-02 15:04:05 UTC"}} · refreshes every 5 s · <a href="?format=json">JSON</a></p>
<h2>Services</h2><table><tr><th>Service</th><th>State</th><th>Cold starts</th><th>Last cold start (ms)</th></tr>
{{range .Services}}<tr><td>{{.Name}}</td><td>{{if eq .State "stopped"}}scaled to zero{{else}}{{.State}}{{end}}</td><td>{{.ColdStarts}}</td><td>{{if .ColdStarts}}{{printf "%.1f" .LastColdStart}}{{end}}</td></tr>
{{end}}</table>
<h2>KafkaSources</h2><table><tr><th>Source</th><th>Topics</th><th>Ordering</th><th>Lag</th><th>Delivered</th><th>Retried</th><th>Dead-lettered</th><th>Dropped</th></tr>
{{range .Sources}}<tr><td>{{.Name}}</td><td>{{range $i, $t := .Topics}}{{if $i}}, {{end}}{{$t}}{{end}}</td><td>{{.Ordering}}</td><td>{{if .LagError}}<span class="bad">{{.LagError}}</span>{{else}}{{.Lag}}{{end}}</td><td>{{.Delivered}}</td><td>{{.Retried}}</td><td>{{.DeadLettered}}</td><td{{if .Dropped}} class="bad"{{end}}>{{.Dropped}}</td></tr>
{{end}}</table>
<h2>Outbox</h2>{{if .Outbox.Error}}<p class="bad">{{.Outbox.Error}}</p>{{else}}<p>{{.Outbox.Unsent}} unsent; the oldest is {{printf "%.0f" .Outbox.OldestAgeSec}} s old.</p>{{end}}
</body></html>
`))
