package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// keptUpWithin is where keeping up ends: a step saturated when its p99, or
// its drain (the last delivery after the last send), is above it.
const keptUpWithin = time.Second

// climbOptions are the knobs of a benchmark that climbs offered rates.
type climbOptions struct {
	rates numberList
	step  time.Duration // how long each rate is held
	drain time.Duration // how long to wait for a step's last deliveries
}

func (c *climbOptions) flags(fs *flag.FlagSet, prefix, unit string) {
	fs.Var(&c.rates, prefix+"rates", unit+" per second to climb through, comma-separated (open loop: sent on schedule, whatever the answers)")
	fs.DurationVar(&c.step, prefix+"step", c.step, "how long each rate is held")
	fs.DurationVar(&c.drain, prefix+"drain", c.drain, "how long to wait for a step's last deliveries before counting them lost")
}

func (c climbOptions) check() error {
	if len(c.rates) == 0 || c.step <= 0 || c.drain <= 0 {
		return fmt.Errorf("-rates, -step and -drain must be given and positive")
	}
	for _, r := range c.rates {
		if r <= 0 {
			return fmt.Errorf("rate %g is not positive", r)
		}
	}
	return nil
}

// stepTotal is how many sends a step at rate makes (at least one).
func (c climbOptions) stepTotal(rate float64) int {
	return max(1, int(c.step.Seconds()*rate))
}

// climb runs step at each rate in turn and stops after the first step that
// saturated: past the cliff the next rate only buries the stack deeper. It
// returns the highest rate that kept up (0 when none did). step says why
// its rate saturated; no reasons means it kept up.
func climb(ctx context.Context, rates []float64, step func(rate float64) ([]string, error)) (float64, error) {
	sustained := 0.0
	for _, rate := range rates {
		if err := ctx.Err(); err != nil {
			return sustained, err
		}
		fmt.Fprintf(os.Stderr, "step: %g/s…\n", rate)
		reasons, err := step(rate)
		if err != nil {
			return sustained, fmt.Errorf("at %g/s: %w", rate, err)
		}
		if len(reasons) > 0 {
			fmt.Fprintf(os.Stderr, "saturated at %g/s: %s\n", rate, strings.Join(reasons, ", "))
			return sustained, nil
		}
		sustained = rate
	}
	return sustained, nil
}

// saturation names what went wrong in a step, in the table's words.
func saturation(p99, drain time.Duration, lost, duplicated, failed int) []string {
	var r []string
	if p99 > keptUpWithin {
		r = append(r, "p99 > "+keptUpWithin.String())
	}
	if drain > keptUpWithin {
		r = append(r, "backlog (drain "+ms(drain)+")")
	}
	if lost > 0 {
		r = append(r, "lost")
	}
	if duplicated > 0 {
		r = append(r, "duplicated")
	}
	if failed > 0 {
		r = append(r, "failed sends")
	}
	return r
}

// verdict is a step's last cell.
func verdict(reasons []string) string {
	if len(reasons) == 0 {
		return "kept up"
	}
	return "SATURATED: " + strings.Join(reasons, ", ")
}

// sustainedLine is the curve's conclusion.
func sustainedLine(sustained float64, unit string, rates []float64) string {
	if sustained == 0 {
		return fmt.Sprintf("highest rate sustained: none (the first step, %g %s/s, saturated)", rates[0], unit)
	}
	if sustained == rates[len(rates)-1] {
		return fmt.Sprintf("highest rate sustained: %g %s/s (every rate tried kept up; the cliff is higher)", sustained, unit)
	}
	return fmt.Sprintf("highest rate sustained: %g %s/s", sustained, unit)
}

// achieved is the rate the open loop really offered.
func achieved(total int, offeredFor time.Duration) float64 {
	if total < 2 || offeredFor <= 0 {
		return float64(total)
	}
	// total sends span total-1 intervals.
	return float64(total-1) / offeredFor.Seconds()
}

// drainAfter is how long after the last send the last delivery came.
func drainAfter(lastSent, lastDelivery time.Time) time.Duration {
	if lastDelivery.IsZero() || lastDelivery.Before(lastSent) {
		return 0
	}
	return lastDelivery.Sub(lastSent)
}

// numberList is a comma-separated list of positive numbers as a flag.
type numberList []float64

func (l *numberList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (l *numberList) Set(s string) error {
	var out numberList
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}
