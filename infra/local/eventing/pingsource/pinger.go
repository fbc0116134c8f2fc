// Package pingsource emulates a Knative PingSource: on a cron schedule it
// POSTs a dev.knative.sources.ping CloudEvent (binary mode) carrying the
// source's data to its sink.
package pingsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"github.com/robfig/cron/v3"
)

// EventType is the CloudEvent type every PingSource emits.
const EventType = "dev.knative.sources.ping"

// sendTimeout bounds one delivery to the sink.
const sendTimeout = 30 * time.Second

// Config mirrors a PingSource's spec.
type Config struct {
	Name      string
	Namespace string
	// Schedule is a standard 5-field cron expression (CRON_TZ= prefix and
	// @every/@hourly descriptors allowed).
	Schedule string
	// ContentType becomes the event's datacontenttype (omitted when empty).
	ContentType string
	// Data is the event payload, sent as is.
	Data    string
	SinkURL string
	Logger  *slog.Logger
}

// Pinger fires one PingSource on its schedule.
type Pinger struct {
	cfg    Config
	log    *slog.Logger
	source string
	client *http.Client
	cron   *cron.Cron

	stopOnce sync.Once
}

// Start validates cfg and starts firing on the schedule until ctx ends or
// Close is called. Failed deliveries are logged; the schedule goes on.
func Start(ctx context.Context, cfg Config) (*Pinger, error) {
	if cfg.Name == "" || cfg.Namespace == "" || cfg.SinkURL == "" {
		return nil, errors.New("pingsource: name, namespace and sink URL are required")
	}
	schedule, err := cron.ParseStandard(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("pingsource %s: schedule %q: %w", cfg.Name, cfg.Schedule, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Pinger{
		cfg:    cfg,
		log:    log.With("component", "ping-source", "source", cfg.Namespace+"/"+cfg.Name),
		source: fmt.Sprintf("/apis/v1/namespaces/%s/pingsources/%s", cfg.Namespace, cfg.Name),
		client: &http.Client{Timeout: sendTimeout},
		cron:   cron.New(),
	}
	p.cron.Schedule(schedule, cron.FuncJob(func() {
		if err := p.FireNow(ctx); err != nil {
			p.log.Warn("ping not delivered", "error", err)
		}
	}))
	p.cron.Start()
	go func() {
		<-ctx.Done()
		p.Close()
	}()
	p.log.Info("ping source started", "schedule", cfg.Schedule, "sink", cfg.SinkURL, "next", schedule.Next(time.Now()))
	return p, nil
}

// FireNow sends one ping immediately and reports whether the sink accepted
// it with a 2xx.
func (p *Pinger) FireNow(ctx context.Context) error {
	ev := p.event(time.Now())
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.SinkURL, nil)
	if err != nil {
		return fmt.Errorf("pingsource %s: %w", p.cfg.Name, err)
	}
	if err := cehttp.WriteRequest(binding.WithForceBinary(ctx), binding.ToMessage(&ev), req); err != nil {
		return fmt.Errorf("pingsource %s: encoding event: %w", p.cfg.Name, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("pingsource %s: sending to %s: %w", p.cfg.Name, p.cfg.SinkURL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("pingsource %s: sink %s answered %d", p.cfg.Name, p.cfg.SinkURL, resp.StatusCode)
	}
	p.log.Info("ping delivered", "ce_id", ev.ID(), "status", resp.StatusCode)
	return nil
}

func (p *Pinger) event(at time.Time) event.Event {
	ev := event.New()
	ev.SetID(uuid.NewString())
	ev.SetType(EventType)
	ev.SetSource(p.source)
	ev.SetTime(at.UTC())
	if p.cfg.ContentType != "" {
		ev.SetDataContentType(p.cfg.ContentType)
	}
	if p.cfg.Data != "" {
		ev.DataEncoded = []byte(p.cfg.Data)
	}
	return ev
}

// Close stops the schedule and waits for a ping in progress to finish.
func (p *Pinger) Close() error {
	p.stopOnce.Do(func() {
		<-p.cron.Stop().Done()
	})
	return nil
}
