// Command hello is a tiny stand-in for a Tidings function, used by the serving
// tests. It behaves like a Knative container: it listens on $PORT, answers
// /healthz, and exits on SIGTERM. Environment switches make it misbehave on
// purpose (never ready, exit at start, ignore SIGTERM).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	if f := os.Getenv("HELLO_PID_FILE"); f != "" {
		if err := os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write pid file:", err)
			os.Exit(1)
		}
	}
	if os.Getenv("HELLO_EXIT_AT_START") != "" {
		fmt.Fprintln(os.Stderr, "hello: refusing to start (HELLO_EXIT_AT_START)")
		os.Exit(2)
	}
	if os.Getenv("HELLO_IGNORE_SIGTERM") != "" {
		signal.Ignore(syscall.SIGTERM)
	}

	st := &stats{release: make(chan struct{})}
	mux := http.NewServeMux()
	health := newProbeStatus()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("HELLO_NEVER_READY") != "" {
			http.Error(w, "never ready", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(health.get("ready"))
	})
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(health.get("live"))
	})
	// /probe?name=ready|live&status=N makes that probe answer N from now on.
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("status"))
		if err != nil {
			http.Error(w, "bad status", http.StatusBadRequest)
			return
		}
		health.set(r.URL.Query().Get("name"), code)
		w.WriteHeader(http.StatusNoContent)
	})
	// /headers reports the Host and forwarding headers the process got.
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{
			"host":              r.Host,
			"x-forwarded-host":  r.Header.Get("X-Forwarded-Host"),
			"x-forwarded-proto": r.Header.Get("X-Forwarded-Proto"),
			"x-forwarded-for":   r.Header.Get("X-Forwarded-For"),
		})
	})
	// /env reports what the runner gave this process.
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, k := range []string{"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION", "KO_DATA_PATH", "K_SINK", "K_CE_OVERRIDES", "PUBLIC_URL", "DATABASE_URL"} {
			if v, ok := os.LookupEnv(k); ok {
				env[k] = v
			}
		}
		writeJSON(w, map[string]any{"pid": os.Getpid(), "env": env})
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Hello-Pid", strconv.Itoa(os.Getpid()))
		w.Header().Set("X-Seen-Traceparent", r.Header.Get("traceparent"))
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	})
	// /slow sleeps for ?d= or until the caller goes away, counting itself in flight.
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, "bad d", http.StatusBadRequest)
			return
		}
		defer st.enter()()
		select {
		case <-time.After(d):
			fmt.Fprintln(w, "done")
		case <-r.Context().Done():
		}
	})
	// /hold blocks until /release is called, counting itself in flight.
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		defer st.enter()()
		select {
		case <-st.releaseCh():
			fmt.Fprintln(w, "released")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/release", func(w http.ResponseWriter, r *http.Request) {
		st.releaseAll()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		cur, max := st.snapshot()
		writeJSON(w, map[string]int{"inflight": cur, "max_inflight": max, "pid": os.Getpid()})
	})
	// /partial writes one line, flushes, and finishes only after /release.
	mux.HandleFunc("/partial", func(w http.ResponseWriter, r *http.Request) {
		release := st.releaseCh()
		fmt.Fprintln(w, "first")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
			fmt.Fprintln(w, "second")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(os.Stderr, "hello: crashing on request")
		os.Exit(3)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})

	srv := &http.Server{Addr: ":" + os.Getenv("PORT"), Handler: mux}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	fmt.Printf("hello listening on %s\n", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	fmt.Println("hello stopped")
}

// probeStatus is what /healthz ("ready") and /livez ("live") answer; the
// readiness status starts as $HELLO_READY_STATUS (default 200).
type probeStatus struct {
	mu   sync.Mutex
	code map[string]int
}

func newProbeStatus() *probeStatus {
	ready := http.StatusOK
	if n, err := strconv.Atoi(os.Getenv("HELLO_READY_STATUS")); err == nil {
		ready = n
	}
	return &probeStatus{code: map[string]int{"ready": ready, "live": http.StatusOK}}
}

func (p *probeStatus) get(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code[name]
}

func (p *probeStatus) set(name string, code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.code[name] = code
}

type stats struct {
	mu       sync.Mutex
	inflight int
	max      int
	release  chan struct{}
}

func (s *stats) enter() (leave func()) {
	s.mu.Lock()
	s.inflight++
	s.max = max(s.max, s.inflight)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}
}

func (s *stats) snapshot() (cur, max int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight, s.max
}

func (s *stats) releaseCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.release
}

// releaseAll frees every current holder; later holders wait for the next release.
func (s *stats) releaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
