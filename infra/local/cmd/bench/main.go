// Command bench prints the walking skeleton's numbers (issue 2, "Numbers to
// report"). It measures; it never asserts a timing.
//
//	go run ./infra/local/cmd/bench coldstart    [-n 50] [-function session]
//	go run ./infra/local/cmd/bench signup       [-rate 5] [-duration 30s]
//	go run ./infra/local/cmd/bench idle-memory  [-idle 2s]
//	go run ./infra/local/cmd/bench post         [-authors 4] [-friends 50] [-rate 5] [-duration 30s]
//	go run ./infra/local/cmd/bench all          (the four in turn; post smaller, flags -post-*)
//
// coldstart, signup and post use the machine's Postgres (a scratch database is
// created and dropped) and Redis; idle-memory lets the stack start its own
// private Postgres, Redis, MinIO and Kafka so that they are counted.
// Tables go to stdout; progress and function logs go to stderr and to a
// log file in the run's temporary directory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// options are every benchmark's knobs; each subcommand registers the ones it
// uses, and "all" registers them all.
type options struct {
	postgres string // server URL; a scratch database is made on it
	redis    string

	// coldstart
	runs     int
	function string
	path     string

	// signup
	rate     float64
	duration time.Duration
	drain    time.Duration
	poll     time.Duration

	// idle-memory
	idle time.Duration

	// post
	authors, friends int
	postRate         float64
	postDuration     time.Duration
	postDrain        time.Duration
	setupParallel    int

	verbose bool
}

func defaults() options {
	return options{
		postgres: envOr("TIDINGS_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		redis:    envOr("TIDINGS_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
		runs:     50,
		function: "session",
		path:     "/api/me",
		rate:     5,
		duration: 30 * time.Second,
		drain:    60 * time.Second,
		poll:     time.Millisecond,
		idle:     2 * time.Second,

		authors:       4,
		friends:       50,
		postRate:      5,
		postDuration:  30 * time.Second,
		postDrain:     60 * time.Second,
		setupParallel: 4,
	}
}

func (o *options) backingFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.postgres, "postgres", o.postgres, "Postgres server URL (env TIDINGS_BENCH_POSTGRES); a scratch database is created on it and dropped after")
	fs.StringVar(&o.redis, "redis", o.redis, "Redis URL (env TIDINGS_BENCH_REDIS)")
}

func (o *options) coldstartFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.runs, "n", o.runs, "cold starts to measure (each way)")
	fs.StringVar(&o.function, "function", o.function, "Knative Service (from knative/) whose binary is cold-started")
	fs.StringVar(&o.path, "path", o.path, "the first request's path (any answer below 500 counts as served by the function)")
}

func (o *options) signupFlags(fs *flag.FlagSet) {
	fs.Float64Var(&o.rate, "rate", o.rate, "signups per second (open loop: sent on schedule, whatever the answers)")
	fs.DurationVar(&o.duration, "duration", o.duration, "how long to sign up at that rate")
	fs.DurationVar(&o.drain, "drain", o.drain, "how long to wait for the last emails after the last signup")
	fs.DurationVar(&o.poll, "poll", o.poll, "how often the mail catcher's API is polled (capture time is the catcher's own timestamp)")
}

func (o *options) memoryFlags(fs *flag.FlagSet) {
	fs.DurationVar(&o.idle, "idle", o.idle, "scale-to-zero idle timeout given to every function")
}

// postFlags registers post's knobs; under "all" they carry a prefix so as
// not to clash with signup's -rate and -duration.
func (o *options) postFlags(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&o.authors, prefix+"authors", o.authors, "authors, posting in turn")
	fs.IntVar(&o.friends, prefix+"friends", o.friends, "distinct friends per author, each with an open notification WebSocket")
	fs.Float64Var(&o.postRate, prefix+"rate", o.postRate, "posts per second across all authors (open loop)")
	fs.DurationVar(&o.postDuration, prefix+"duration", o.postDuration, "how long to post at that rate")
	fs.DurationVar(&o.postDrain, prefix+"drain", o.postDrain, "how long to wait for the last messages after the last post (and for the setup to settle)")
	fs.IntVar(&o.setupParallel, prefix+"setup-parallel", o.setupParallel, "signups in flight during setup (argon2id); other setup calls use 4× this")
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	o := defaults()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	fs.BoolVar(&o.verbose, "v", false, "copy function logs to stderr as well")
	var run func(context.Context, string, options) error
	switch os.Args[1] {
	case "coldstart":
		o.backingFlags(fs)
		o.coldstartFlags(fs)
		run = coldStart
	case "signup":
		o.backingFlags(fs)
		o.signupFlags(fs)
		run = signupLatency
	case "idle-memory":
		o.memoryFlags(fs)
		run = idleMemory
	case "post":
		o.backingFlags(fs)
		o.postFlags(fs, "")
		run = postLatency
	case "all":
		// Smaller than post on its own: still 50 friends per author.
		o.authors, o.postDuration = 2, 15*time.Second
		o.backingFlags(fs)
		o.coldstartFlags(fs)
		o.signupFlags(fs)
		o.memoryFlags(fs)
		o.postFlags(fs, "post-")
		run = all
	default:
		usage()
	}
	fs.Parse(os.Args[2:]) //nolint:errcheck // ExitOnError
	repo, err := stack.FindRepo()
	if err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	printMachine()
	if err := run(ctx, repo, o); err != nil {
		fail(err)
	}
}

func all(ctx context.Context, repo string, o options) error {
	var errs []error
	for _, b := range []struct {
		name string
		run  func(context.Context, string, options) error
	}{{"coldstart", coldStart}, {"signup", signupLatency}, {"idle-memory", idleMemory}, {"post", postLatency}} {
		if ctx.Err() != nil {
			break
		}
		if err := b.run(ctx, repo, o); err != nil {
			// One failing benchmark should not hide the others' numbers.
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", b.name, err)
			errs = append(errs, fmt.Errorf("%s: %w", b.name, err))
		}
	}
	return errors.Join(errs...)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench coldstart|signup|idle-memory|post|all [flags]   (bench <cmd> -h lists the flags)")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// quietLogger keeps the stack's own chatter to warnings.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
