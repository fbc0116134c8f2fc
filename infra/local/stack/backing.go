package stack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tidings-dev/tidings/infra/backing"
	"github.com/tidings-dev/tidings/infra/backing/mailcatcher"
	"github.com/tidings-dev/tidings/infra/local/eventing/kafkaauth"
)

// Backing says where each backing service is, and stops the ones the stack
// started itself.
type Backing struct {
	KafkaBrokers []string
	DatabaseURL  string
	RedisURL     string
	S3Endpoint   string
	S3AccessKey  string
	S3SecretKey  string
	SMTPAddr     string
	MailURL      string // the mail catcher's web page and API, when ours
	MinIOConsole string
	// OTLPEndpoint is where every process exports traces (empty: tracing
	// off), JaegerURL Jaeger's UI and API when the stack runs it.
	OTLPEndpoint string
	JaegerURL    string
	// SpanMetricsURL is Jaeger's Prometheus endpoint of metrics derived
	// from the spans (calls, errors, latency per service, span and outcome).
	SpanMetricsURL string
	// Origin says, per service, "embedded", "local binary" or "from $VAR".
	Origin map[string]string
	Kafka  *backing.Kafka // nil when KAFKA_BROKERS names a real cluster
	// KafkaAdmin is the stack's superuser on that Kafka (kafkausers.go);
	// zero for a Kafka without authentication.
	KafkaAdmin kafkaauth.Credentials
	stops      []func(context.Context) error
}

// Env is what every function process gets, named as in the cluster's
// tidings-config ConfigMap and tidings-secrets Secret.
func (b *Backing) Env() map[string]string {
	env := map[string]string{
		"DATABASE_URL":  b.DatabaseURL,
		"REDIS_URL":     b.RedisURL,
		"KAFKA_BROKERS": strings.Join(b.KafkaBrokers, ","),
		"S3_ENDPOINT":   b.S3Endpoint,
		"S3_ACCESS_KEY": b.S3AccessKey,
		"S3_SECRET_KEY": b.S3SecretKey,
		"S3_BUCKET":     "tidings-pictures",
		"SMTP_ADDR":     b.SMTPAddr,
	}
	if b.OTLPEndpoint != "" {
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = b.OTLPEndpoint
	}
	return env
}

// Stop stops what the stack started.
func (b *Backing) Stop(ctx context.Context) error {
	var first error
	for i := len(b.stops) - 1; i >= 0; i-- {
		if err := b.stops[i](ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// startBacking starts each backing service the environment does not name,
// all at once (the first MinIO build alone takes minutes).
func startBacking(ctx context.Context, o Options, say func(string, ...any)) (*Backing, error) {
	b := &Backing{Origin: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	progress := func(name string) backing.Progress {
		return func(msg string) { say("%s: %s", name, msg) }
	}
	run := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				mu.Unlock()
			}
		}()
	}
	keep := func(origin, name string, stop func(context.Context) error) {
		mu.Lock()
		defer mu.Unlock()
		b.Origin[name] = origin
		if stop != nil {
			b.stops = append(b.stops, stop)
		}
	}
	dir := func(name string) string { return filepath.Join(o.DataDir, name) }
	admin, err := kafkaAdmin(o)
	if err != nil {
		return nil, err
	}
	b.KafkaAdmin = admin

	if v := o.Env("KAFKA_BROKERS"); v != "" {
		b.KafkaBrokers = strings.Split(v, ",")
		keep("from $KAFKA_BROKERS", "kafka", nil)
	} else {
		run("kafka", func() error {
			k, err := backing.StartKafka(ctx, dir("kafka"), fmt.Sprintf("127.0.0.1:%d", o.Ports.Kafka), progress("kafka"), backing.KafkaSuperuser(admin.User, admin.Password))
			if err != nil {
				return err
			}
			b.Kafka, b.KafkaBrokers = k, k.Brokers()
			keep("embedded (kfake)", "kafka", k.Stop)
			return nil
		})
	}
	if v := o.Env("DATABASE_URL"); v != "" {
		b.DatabaseURL = v
		keep("from $DATABASE_URL", "postgres", nil)
	} else {
		run("postgres", func() error {
			p, err := backing.StartPostgres(ctx, dir("postgres"), o.Ports.Postgres, progress("postgres"))
			if err != nil {
				return err
			}
			b.DatabaseURL = p.URL()
			keep("local server binaries", "postgres", p.Stop)
			return nil
		})
	}
	if v := o.Env("REDIS_URL"); v != "" {
		b.RedisURL = v
		keep("from $REDIS_URL", "redis", nil)
	} else {
		run("redis", func() error {
			r, err := backing.StartRedis(ctx, dir("redis"), o.Ports.Redis, progress("redis"))
			if err != nil {
				return err
			}
			b.RedisURL = r.URL()
			origin := "local redis-server"
			if r.Embedded() {
				origin = "embedded (miniredis: no redis-server found)"
			}
			keep(origin, "redis", r.Stop)
			return nil
		})
	}
	if v := o.Env("S3_ENDPOINT"); v != "" {
		b.S3Endpoint, b.S3AccessKey, b.S3SecretKey = v, o.Env("S3_ACCESS_KEY"), o.Env("S3_SECRET_KEY")
		keep("from $S3_ENDPOINT", "minio", nil)
	} else {
		run("minio", func() error {
			m, err := backing.StartMinIO(ctx, dir("minio"), o.Ports.MinIO, o.Ports.MinIOConsole, progress("minio"))
			if err != nil {
				return err
			}
			b.S3Endpoint, b.S3AccessKey, b.S3SecretKey, b.MinIOConsole = m.Endpoint(), m.AccessKey, m.SecretKey, m.ConsoleURL()
			keep("local MinIO server", "minio", m.Stop)
			return nil
		})
	}
	if v := o.Env("SMTP_ADDR"); v != "" {
		b.SMTPAddr = v
		keep("from $SMTP_ADDR", "smtp", nil)
	} else {
		run("smtp", func() error {
			c, err := mailcatcher.Start(ctx, mailcatcher.Config{
				SMTPAddr: fmt.Sprintf("127.0.0.1:%d", o.Ports.SMTP),
				HTTPAddr: fmt.Sprintf("127.0.0.1:%d", o.Ports.MailHTTP),
				DataDir:  dir("mail"),
			})
			if err != nil {
				return err
			}
			b.SMTPAddr, b.MailURL = c.SMTPAddr(), c.HTTPURL()
			keep("embedded mail catcher", "smtp", func(context.Context) error { return c.Close() })
			return nil
		})
	}
	switch {
	case o.Env("OTEL_TRACES_EXPORTER") == "none":
		keep("off ($OTEL_TRACES_EXPORTER=none)", "tracing", nil)
	case o.Env("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		b.OTLPEndpoint = o.Env("OTEL_EXPORTER_OTLP_ENDPOINT")
		keep("from $OTEL_EXPORTER_OTLP_ENDPOINT", "tracing", nil)
	default:
		run("jaeger", func() error {
			ports := backing.JaegerPorts{OTLP: o.Ports.JaegerOTLP, Query: o.Ports.Jaeger, GRPC: o.Ports.JaegerGRPC, Metrics: o.Ports.JaegerMetrics}
			j, err := backing.StartJaeger(ctx, dir("jaeger"), filepath.Join(o.RepoDir, "infra", "jaeger"), ports, progress("jaeger"))
			if err != nil {
				return err
			}
			b.OTLPEndpoint, b.JaegerURL, b.SpanMetricsURL = j.OTLPEndpoint(), j.QueryURL(), j.MetricsURL()
			keep("local Jaeger "+backing.JaegerVersion+" (traces in memory)", "tracing", j.Stop)
			return nil
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
		return nil, errors.Join(errs...)
	}
	return b, nil
}
