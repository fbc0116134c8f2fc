// Package pingsource emulates a Knative PingSource as the mtping adapter
// runs it (knative/eventing pkg/adapter/mtping/runner.go): on a cron
// schedule read in UTC (or the source's timezone), after a random delay of
// up to 500 ms, it POSTs a dev.knative.sources.ping CloudEvent (binary mode)
// carrying the source's data to its sink, retrying 5 times with exponential
// backoff from 50 ms.
package pingsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"github.com/robfig/cron/v3"
)

// EventType is the CloudEvent type every PingSource emits.
const EventType = "dev.knative.sources.ping"

// The mtping adapter's delivery: retries and backoff (runner.go, AddSchedule)
// and the spread of each tick (runner.go, cronTick).
const (
	retries      = 5
	retryBackoff = 50 * time.Millisecond
	maxJitter    = 500 * time.Millisecond
	// sendTimeout bounds one attempt to the sink.
	sendTimeout = 30 * time.Second
)

// Config mirrors a PingSource's spec.
type Config struct {
	Name      string
	Namespace string
	// Schedule is a standard 5-field cron expression (CRON_TZ= prefix and
	// @every/@hourly descriptors allowed), read in UTC unless Timezone is set.
	Schedule string
	// Timezone is spec.timezone, an IANA zone name; "" means UTC, the
	// adapter's own zone.
	Timezone string
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
	client cloudevents.Client
	cron   *cron.Cron
	next   func(time.Time) time.Time

	stopOnce sync.Once
}

// Start validates cfg and starts firing on the schedule until ctx ends or
// Close is called. Failed deliveries are logged; the schedule goes on.
func Start(ctx context.Context, cfg Config) (*Pinger, error) {
	if cfg.Name == "" || cfg.Namespace == "" || cfg.SinkURL == "" {
		return nil, errors.New("pingsource: name, namespace and sink URL are required")
	}
	spec := cfg.Schedule
	if cfg.Timezone != "" {
		spec = "CRON_TZ=" + cfg.Timezone + " " + spec
	}
	schedule, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("pingsource %s: schedule %q: %w", cfg.Name, spec, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	client, err := cloudevents.NewClientHTTP(cehttp.WithClient(http.Client{Timeout: sendTimeout}))
	if err != nil {
		return nil, fmt.Errorf("pingsource %s: %w", cfg.Name, err)
	}
	p := &Pinger{
		cfg:    cfg,
		log:    log.With("component", "ping-source", "source", cfg.Namespace+"/"+cfg.Name),
		source: fmt.Sprintf("/apis/v1/namespaces/%s/pingsources/%s", cfg.Namespace, cfg.Name),
		client: client,
		cron:   cron.New(cron.WithLocation(time.UTC)),
		next:   schedule.Next,
	}
	p.cron.Schedule(schedule, cron.FuncJob(func() {
		// Spread the ticks of many sources, as the adapter does.
		select {
		case <-time.After(rand.N(maxJitter)):
		case <-ctx.Done():
			return
		}
		if err := p.FireNow(ctx); err != nil {
			p.log.Warn("ping not delivered", "error", err)
		}
	}))
	p.cron.Start()
	go func() {
		<-ctx.Done()
		p.Close()
	}()
	p.log.Info("ping source started", "schedule", spec, "sink", cfg.SinkURL, "next", p.Next(time.Now()))
	return p, nil
}

// Next is when the schedule fires next after t (before the jitter).
func (p *Pinger) Next(t time.Time) time.Time {
	return p.next(t.In(time.UTC))
}

// FireNow sends one ping immediately (no jitter), with the adapter's
// retries, and reports whether the sink finally accepted it.
func (p *Pinger) FireNow(ctx context.Context) error {
	ev := p.event(time.Now())
	ctx = cloudevents.ContextWithTarget(ctx, p.cfg.SinkURL)
	ctx = cloudevents.ContextWithRetriesExponentialBackoff(ctx, retryBackoff, retries)
	result := p.client.Send(binding.WithForceBinary(ctx), ev)
	if !cloudevents.IsACK(result) {
		return fmt.Errorf("pingsource %s: sending to %s: %w", p.cfg.Name, p.cfg.SinkURL, result)
	}
	p.log.Info("ping delivered", "ce_id", ev.ID())
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
