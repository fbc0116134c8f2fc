package kafkasource

import (
	"sort"
	"sync"

	"github.com/IBM/sarama"
)

// groupHandler runs one consume loop per claimed partition; sarama calls
// ConsumeClaim for each partition on its own goroutine, so partitions are
// always dispatched in parallel with each other.
type groupHandler struct{ d *Dispatcher }

func (h *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.d.log.Info("partitions assigned", "claims", s.Claims(), "generation", s.GenerationID())
	h.d.readyOnce.Do(func() { close(h.d.ready) })
	return nil
}

func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *groupHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	if h.d.cfg.Ordering == OrderingUnordered {
		return h.unordered(s, c)
	}
	return h.ordered(s, c)
}

// ordered delivers one record at a time: the next record of the partition
// waits until this one succeeded, exhausted its retries or was dead-lettered.
func (h *groupHandler) ordered(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	ctx := s.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-c.Messages():
			if !ok {
				return nil
			}
			if !h.d.dispatch(ctx, m) {
				return nil // abandoned on shutdown or rebalance: leave it uncommitted
			}
			s.MarkMessage(m, "")
		}
	}
}

// unordered delivers the partition's records without waiting for each
// other, within the source-wide MaxInFlight, and marks offsets only up to
// the oldest record not yet finished, so a crash never commits past an
// undelivered record.
func (h *groupHandler) unordered(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	ctx := s.Context()
	slots := h.d.slots
	tracker := &offsetTracker{}
	var wg sync.WaitGroup
	defer wg.Wait() // no MarkOffset may run after the session ends
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-c.Messages():
			if !ok {
				return nil
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			tracker.begin(m.Offset)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if !h.d.dispatch(ctx, m) {
					return
				}
				tracker.finish(m.Offset, func(next int64) {
					s.MarkOffset(m.Topic, m.Partition, next, "")
				})
			}()
		}
	}
}

// offsetTracker knows which offsets of one partition are in flight and
// reports the next offset that is safe to commit: one past the longest run
// of finished records at the head.
type offsetTracker struct {
	mu      sync.Mutex
	pending []trackedOffset // ascending by offset, as records arrive in order
}

type trackedOffset struct {
	offset int64
	done   bool
}

func (t *offsetTracker) begin(offset int64) {
	t.mu.Lock()
	t.pending = append(t.pending, trackedOffset{offset: offset})
	t.mu.Unlock()
}

// finish records offset as done; if that advances the commit point, mark is
// called (under the lock, so marks happen in increasing order) with it.
func (t *offsetTracker) finish(offset int64, mark func(next int64)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.pending), func(i int) bool { return t.pending[i].offset >= offset })
	if i == len(t.pending) || t.pending[i].offset != offset {
		return
	}
	t.pending[i].done = true
	n := 0
	for n < len(t.pending) && t.pending[n].done {
		n++
	}
	if n == 0 {
		return
	}
	next := t.pending[n-1].offset + 1
	t.pending = append(t.pending[:0], t.pending[n:]...)
	mark(next)
}
