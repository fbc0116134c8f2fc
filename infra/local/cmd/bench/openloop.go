package main

import (
	"context"
	"sync"
	"time"
)

// openLoop calls send(0..total-1), one every 1/rate from now, each on its own
// goroutine whatever the earlier ones are doing (open loop, so a slow stack
// cannot slow the offered load down), and waits for them all. It returns how
// long offering the load took, from the first send to the last one's start.
// When ctx ends first it returns ctx.Err() at once, without waiting.
func openLoop(ctx context.Context, rate float64, total int, send func(i int)) (time.Duration, error) {
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	begin := time.Now()
	for i := range total {
		select {
		case <-time.After(time.Until(begin.Add(time.Duration(i) * interval))):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(i)
		}()
	}
	offeredFor := time.Since(begin)
	wg.Wait()
	return offeredFor, nil
}
