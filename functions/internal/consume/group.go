package consume

import (
	"context"
	"sync"
	"time"

	"github.com/tidings-dev/tidings/functions/internal/outbox"
)

// groupTimeout bounds one group's transaction, whatever its deliveries'
// own deadlines: a group outlives the request that started it.
const groupTimeout = 30 * time.Second

// grouper forms group commits out of concurrent deliveries (GroupCommit).
type grouper struct {
	ob            *outbox.Outbox
	size, runners int

	mu      sync.Mutex
	pending []*groupJob
	running int
}

type groupJob struct {
	work outbox.Work
	done chan error
}

// apply queues fn and waits for the group it joins to be applied. A runner
// starts at once when fewer than g.runners are busy, so a lone delivery
// waits for nothing; deliveries that arrive while every runner is busy
// queue up and go together in the next group.
func (g *grouper) apply(ctx context.Context, fn func(ctx context.Context, tx *outbox.Tx) error) error {
	// The statements run on the group's transaction: a delivery that gives
	// up must not cancel them under the others; the group's timeout bounds
	// them instead.
	job := &groupJob{work: outbox.Work{Ctx: context.WithoutCancel(ctx), Fn: fn}, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, job)
	start := g.running < g.runners
	if start {
		g.running++
	}
	g.mu.Unlock()
	if start {
		go g.run()
	}
	return <-job.done
}

// run applies groups until none is waiting.
func (g *grouper) run() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), g.size)
		if n == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		jobs := append([]*groupJob(nil), g.pending[:n]...)
		g.pending = append(g.pending[:0], g.pending[n:]...)
		g.mu.Unlock()
		work := make([]outbox.Work, len(jobs))
		for i, j := range jobs {
			work[i] = j.work
		}
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		errs := g.ob.RunGroup(ctx, work)
		cancel()
		for i, j := range jobs {
			j.done <- errs[i]
		}
	}
}
