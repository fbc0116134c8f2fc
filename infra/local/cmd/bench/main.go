// Command bench prints Tidings' numbers. It measures; it never asserts a
// timing. Every load benchmark climbs until it saturates and prints the
// curve, since a figure at one easy rate hides the cliff:
//
//	go run ./infra/local/cmd/bench coldstart    [-n 50] [-function session]
//	go run ./infra/local/cmd/bench signup       [-rates 2,5,10,20,40] [-step 10s]
//	go run ./infra/local/cmd/bench idle-memory  [-idle 2s]
//	go run ./infra/local/cmd/bench post         [-authors 4] [-friends 50] [-rates 5,10,20,50,100,150] [-step 10s]
//	go run ./infra/local/cmd/bench feed         [-users 10000] [-friends 50] [-posts 100000] [-concurrency 1,2,4,8,16,32,64] [-step 5s]
//	go run ./infra/local/cmd/bench hop          [-rates 100,500,…,20000] [-step 5s] [-ordering unordered]
//	go run ./infra/local/cmd/bench all          (each in turn, shorter steps; flags carry the benchmark's name: -post-rates, -feed-step …)
//
// What each measures:
//   - coldstart: exec → first request served, through the scale-to-zero
//     runner and bare; a distribution of single starts (min, p50, p90, p99,
//     max), not a load.
//   - signup, post: open-loop rates through the gateway of the whole local
//     stack, each held for -step; the climb stops after the first rate that
//     saturates (p99 or drain over 1 s, or anything lost, duplicated or
//     failed) and prints rate → p50, p99, max, lost, duplicated, and the
//     highest rate sustained. post also counts misdirected messages and
//     fails loudly on any loss, duplicate or misdirection.
//   - feed: seeds a social graph with SQL into the stack's scratch database,
//     logs seeded users in through POST /api/login and reads GET /api/posts
//     with 1, 2, 4, … closed-loop readers; prints concurrency → reads/s,
//     p50, p99, max, errors, and the saturation point.
//   - hop: the same events raw (sarama produce → consume) and through the
//     hop between functions (KafkaSink → Kafka → KafkaSource → subscriber)
//     on one broker, side by side, climbing rates; prints both and the ratio.
//
// Functions are driven only through their real interfaces (HTTP through the
// gateway, CloudEvents to KafkaSinks); bench imports nothing under
// functions/. The former fanoutbench (post.created into the posts KafkaSink
// → WebSocket, with the handlers in one process) is gone: post measures the
// same path and more, through the real stack.
//
// coldstart, signup, post and feed use the machine's Postgres (a scratch
// database is created and dropped) and Redis; idle-memory lets the stack
// start its own private Postgres, Redis, MinIO and Kafka so that they are
// counted; hop needs only its embedded broker. Tables go to stdout; progress
// and function logs go to stderr and to a log file in the run's temporary
// directory. Raw outputs of runs are kept in results/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tidings-dev/tidings/infra/local/stack"
)

// options are every benchmark's knobs; each subcommand registers the ones it
// uses, and "all" registers them all, each under its benchmark's prefix.
type options struct {
	postgres string // server URL; a scratch database is made on it
	redis    string

	// coldstart
	runs     int
	function string
	path     string

	// signup
	signup climbOptions
	poll   time.Duration

	// idle-memory
	idle time.Duration

	// post
	authors, friends int
	post             climbOptions
	setupParallel    int

	feed feedOptions
	hop  hopOptions

	verbose bool
}

func defaults() options {
	return options{
		postgres: envOr("TIDINGS_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		redis:    envOr("TIDINGS_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
		runs:     50,
		function: "session",
		path:     "/api/me",
		signup:   climbOptions{rates: numberList{2, 5, 10, 20, 40}, step: 10 * time.Second, drain: 60 * time.Second},
		poll:     time.Millisecond,
		idle:     2 * time.Second,

		authors:       4,
		friends:       50,
		post:          climbOptions{rates: numberList{5, 10, 20, 50, 100, 150}, step: 10 * time.Second, drain: 60 * time.Second},
		setupParallel: 4,

		feed: feedOptions{
			graph:    graphSizes{users: 10_000, friends: 50, posts: 100_000},
			sessions: 200, concurrency: numberList{1, 2, 4, 8, 16, 32, 64}, step: 5 * time.Second,
			limit: 20, nextShare: 0.25, via: "gateway",
		},
		hop: hopOptions{
			climb:    climbOptions{rates: numberList{100, 500, 1000, 2000, 5000, 10000, 20000}, step: 5 * time.Second, drain: 30 * time.Second},
			ordering: "unordered",
		},
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

func (o *options) signupFlags(fs *flag.FlagSet, prefix string) {
	o.signup.flags(fs, prefix, "signups")
	fs.DurationVar(&o.poll, prefix+"poll", o.poll, "how often the mail catcher's API is polled (capture time is the catcher's own timestamp)")
}

func (o *options) memoryFlags(fs *flag.FlagSet) {
	fs.DurationVar(&o.idle, "idle", o.idle, "scale-to-zero idle timeout given to every function")
}

func (o *options) postFlags(fs *flag.FlagSet, prefix string) {
	fs.IntVar(&o.authors, prefix+"authors", o.authors, "authors, posting in turn")
	fs.IntVar(&o.friends, prefix+"friends", o.friends, "distinct friends per author, each with an open notification WebSocket")
	o.post.flags(fs, prefix, "posts (across all authors)")
	fs.IntVar(&o.setupParallel, prefix+"setup-parallel", o.setupParallel, "signups in flight during setup (argon2id); other setup calls use 4× this")
}

// benchmarks are the subcommands, in the order "all" runs them.
var benchmarks = []struct {
	name    string
	run     func(context.Context, string, options) error
	flags   func(o *options, fs *flag.FlagSet, prefix string)
	machine bool // uses the machine's Postgres and Redis (-postgres, -redis)
}{
	{"coldstart", coldStart, func(o *options, fs *flag.FlagSet, _ string) { o.coldstartFlags(fs) }, true},
	{"signup", signupLatency, (*options).signupFlags, true},
	{"idle-memory", idleMemory, func(o *options, fs *flag.FlagSet, _ string) { o.memoryFlags(fs) }, false},
	{"post", postLatency, (*options).postFlags, true},
	{"feed", feedReads, func(o *options, fs *flag.FlagSet, prefix string) { o.feed.flags(fs, prefix) }, true},
	{"hop", hopLatency, func(o *options, fs *flag.FlagSet, prefix string) { o.hop.flags(fs, prefix) }, false},
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	o := defaults()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	fs.BoolVar(&o.verbose, "v", false, "copy function logs to stderr as well")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the bench and the in-process emulation: gateway, KafkaSink, kfake, KafkaSource dispatchers, Service proxies) to this file")
	var run func(context.Context, string, options) error
	if os.Args[1] == "all" {
		o.backingFlags(fs)
		// Quicker than each on its own; every flag carries its benchmark's
		// prefix (-post-rates, -feed-step …), except coldstart's and -idle.
		o.authors = 2
		o.post.step, o.signup.step, o.feed.step = 5*time.Second, 5*time.Second, 3*time.Second
		for _, b := range benchmarks {
			b.flags(&o, fs, b.name+"-")
		}
		run = all
	}
	for _, b := range benchmarks {
		if b.name == os.Args[1] {
			if b.machine {
				o.backingFlags(fs)
			}
			b.flags(&o, fs, "")
			run = b.run
		}
	}
	if run == nil {
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
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			fail(err)
		}
		defer stopProfile()
	}
	if err := run(ctx, repo, o); err != nil {
		fail(err)
	}
}

func all(ctx context.Context, repo string, o options) error {
	var errs []error
	for _, b := range benchmarks {
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
	fmt.Fprintln(os.Stderr, "usage: bench coldstart|signup|idle-memory|post|feed|hop|all [flags]   (bench <cmd> -h lists the flags)")
	os.Exit(2)
}

// startCPUProfile profiles this process until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
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
