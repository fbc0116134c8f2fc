package apptest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statements counts the statements a pool sends, by their first two words
// upper-cased ("INSERT INTO", "UPDATE OUTBOX", "BEGIN"): round trips are
// what a hot path spends, so a test can pin how many it takes.
type Statements struct {
	mu sync.Mutex
	n  map[string]int
}

// TracedPool opens a second pool on pool's database whose statements the
// returned counter sees.
func TracedPool(t testing.TB, pool *pgxpool.Pool) (*pgxpool.Pool, *Statements) {
	t.Helper()
	s := &Statements{n: map[string]int{}}
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Tracer = s
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)
	return traced, s
}

// Count is how many statements began with prefix (upper case) so far.
func (s *Statements) Count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.n {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// Reset forgets what was counted.
func (s *Statements) Reset() {
	s.mu.Lock()
	clear(s.n)
	s.mu.Unlock()
}

func (s *Statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	words := strings.Fields(d.SQL)
	if len(words) > 2 {
		words = words[:2]
	}
	s.mu.Lock()
	s.n[strings.ToUpper(strings.Join(words, " "))]++
	s.mu.Unlock()
	return ctx
}

func (s *Statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
