// Command server serves the built Tidings web app: static files from
// $KO_DATA_PATH (ko packs web/server/kodata into the image there), with a
// fallback to index.html for client-side routes. It refuses to start when
// that folder holds no build (no index.html), so an image built before
// `npm run build` fails its rollout instead of serving nothing.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	slog.SetDefault(logger)
	if err := run(logger); err != nil {
		logger.Error("web server stopped", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	dir := siteDir(os.Getenv("KO_DATA_PATH"))
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	site := newSite(dir, logger)
	if !site.built() {
		// Serving anything else would pass every health check with no app.
		return fmt.Errorf("no web build in %s: index.html is missing; run `npm run build` in web/ (it writes web/server/kodata, which ko packs into the image)", dir)
	}

	srv := &http.Server{
		Addr:              net.JoinHostPort("", port),
		Handler:           site,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	errc := make(chan error, 1)
	go func() {
		logger.Info("web server listening", "addr", srv.Addr, "dir", dir)
		errc <- srv.ListenAndServe()
	}()

	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// siteDir picks the folder to serve: KO_DATA_PATH when set (in the image),
// else the Vite output seen from the repository root or from web/server.
func siteDir(koDataPath string) string {
	if koDataPath != "" {
		return koDataPath
	}
	candidates := []string{filepath.Join("web", "server", "kodata"), "kodata"}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && info.IsDir() {
			return c
		}
	}
	return candidates[0]
}
