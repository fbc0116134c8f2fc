// Command migrate applies the schema migrations of this release
// (functions/internal/pg/migrations, built into the binary) and exits. It
// runs once per release before the functions take traffic: as the Job in
// knative/migrate/job.yaml on a cluster, and as a step of the local stack
// (infra/local/stack/migrate.go). It is safe to run twice, or two at once:
// applied migrations are skipped, and an advisory lock serialises runs.
// Functions never migrate; they report not ready while the schema is behind.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/config"
	"github.com/tidings-dev/tidings/functions/internal/logging"
	"github.com/tidings-dev/tidings/functions/internal/pg"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := logging.New("migrate")
	wait, err := config.Duration("MIGRATE_WAIT", 2*time.Minute)
	if err == nil {
		err = run(ctx, log, config.String("DATABASE_URL", config.DefaultDatabaseURL), wait)
	}
	if err != nil {
		log.Error("migrate failed", "err", err)
		os.Exit(1)
	}
}

// run waits up to wait for Postgres (a Job may start beside a database that
// is still coming up), then applies what is missing.
func run(ctx context.Context, log *slog.Logger, url string, wait time.Duration) error {
	pool, err := pg.Connect(ctx, url, wait)
	if err != nil {
		return err
	}
	defer pool.Close()
	start := time.Now()
	if err := pg.Migrate(ctx, pool); err != nil {
		return err
	}
	log.Info("schema is current", "ms", time.Since(start).Milliseconds())
	return nil
}
