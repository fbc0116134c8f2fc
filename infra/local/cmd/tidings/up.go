package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tidings-dev/tidings/functions/telemetry"
	"github.com/tidings-dev/tidings/infra/local/stack"
)

func up(repo string, args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	idle := fs.Duration("idle", 0, "scale every function to zero after this idle time (default: from the manifests)")
	fs.Parse(args) //nolint:errcheck
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	s, err := stack.Up(ctx, stack.Options{RepoDir: repo, Ports: stack.DefaultPorts, Progress: os.Stdout, IdleTimeout: *idle})
	if err != nil {
		return err
	}
	printTable(os.Stdout, s, time.Since(start))
	<-ctx.Done()
	fmt.Println("\nstopping…")
	s.Close(context.Background())
	fmt.Println("stopped; data kept in .data/")
	return nil
}

func printTable(out io.Writer, s *stack.Stack, took time.Duration) {
	b := s.Backing()
	fmt.Fprintf(out, "\nTidings is up (%s)\n\n", took.Round(100*time.Millisecond))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, v, note string) { fmt.Fprintf(w, "  %s\t%s\t%s\n", k, v, note) }
	row("Web app + API", localhost(s.GatewayURL), "")
	if b.MailURL != "" {
		row("Mail catcher", localhost(b.MailURL), "captured mail, JSON at /api/v1/messages")
	}
	row("KafkaSinks", s.IngressURL+"/<namespace>/<name>", "CloudEvents from Tidings functions only (knative/eventpolicies.yaml: 401/403)")
	row("Kafka", strings.Join(b.KafkaBrokers, ","), b.Origin["kafka"])
	if dir := s.KafkaSecretsDir(); dir != "" {
		row("Kafka users", "SASL SCRAM-SHA-512, ACLs of knative/kafkausers.yaml",
			"superuser "+s.KafkaAdminCredentials().User+" (kcat: README.md, \"Try it\"); each user's Secret in "+dir+"/<Secret>/")
	}
	row("Postgres", redact(b.DatabaseURL), b.Origin["postgres"])
	row("Redis", b.RedisURL, b.Origin["redis"])
	row("MinIO (S3)", b.S3Endpoint, b.Origin["minio"])
	if b.MinIOConsole != "" {
		row("MinIO console", b.MinIOConsole, "")
	}
	row("SMTP", b.SMTPAddr, b.Origin["smtp"])
	switch {
	case b.JaegerURL != "":
		row("Traces (Jaeger)", localhost(b.JaegerURL), "API /api/traces/<trace id>; a response's trace id is in its traceresponse header")
		row("OTLP endpoint", b.OTLPEndpoint, b.Origin["tracing"])
		row("Span metrics", localhost(b.SpanMetricsURL), "Prometheus: calls, errors, latency per service, route and outcome")
	case b.OTLPEndpoint != "":
		row("OTLP endpoint", b.OTLPEndpoint, b.Origin["tracing"])
	default:
		row("Traces", "off", b.Origin["tracing"])
	}
	w.Flush()
	fmt.Fprintln(out, "\n  Functions (Knative Services; each starts on its first request and scales to zero when idle):")
	names := make([]string, 0)
	for _, svc := range s.Topology().Services {
		names = append(names, svc.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "    %s\t%s\n", n, s.ServiceURL(n))
	}
	w.Flush()
	fmt.Fprintln(out, "\n  Dead letters: go tool task dlq -- list      Stop: Ctrl-C")
}

// localhost names a loopback URL the way a person types it in a browser.
func localhost(u string) string { return strings.Replace(u, "://127.0.0.1:", "://localhost:", 1) }

// redact hides a password in a connection URL.
func redact(u string) string {
	if at := strings.Index(u, "@"); at > 0 {
		if colon := strings.LastIndex(u[:at], ":"); colon > strings.Index(u, "://")+2 {
			return u[:colon] + ":***" + u[at:]
		}
	}
	return u
}

// execCmd runs a command against a fresh stack on free ports with its own
// data directory, then tears the stack down: the browser tests use it.
func execCmd(repo string, args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return fmt.Errorf("exec: no command given")
	}
	dir, err := os.MkdirTemp("", "tidings-exec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logFile, err := os.Create(dir + "/functions.log")
	if err != nil {
		return err
	}
	s, err := stack.Up(ctx, stack.Options{RepoDir: repo, DataDir: dir, Progress: os.Stderr, FunctionOutput: logFile,
		Logger: slog.New(telemetry.LogHandler(slog.NewJSONHandler(logFile, nil)))})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = os.Stdout, os.Stderr, repo
	// BASE_URL is the site's public address, the one a person opens: the
	// functions check Origin against it (PUBLIC_URL), not the gateway's host.
	cmd.Env = append(os.Environ(), "BASE_URL="+s.PublicURL, "MAIL_URL="+s.Backing().MailURL)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			fmt.Fprintf(os.Stderr, "tidings exec: %s failed; function logs:\n", args[0])
			tail(logFile.Name(), 60)
			return exitCode(ee.ExitCode())
		}
		return err
	}
	return nil
}

func tail(path string, n int) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}
