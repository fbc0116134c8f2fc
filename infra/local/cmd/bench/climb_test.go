package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNumberListParsesAndRejects(t *testing.T) {
	var l numberList
	if err := l.Set("5, 10,20.5"); err != nil {
		t.Fatal(err)
	}
	if want := (numberList{5, 10, 20.5}); !slices.Equal(l, want) {
		t.Fatalf("got %v, want %v", l, want)
	}
	if l.String() != "5,10,20.5" {
		t.Fatalf("String() = %q", l.String())
	}
	for _, bad := range []string{"", "5,,10", "0", "-1", "ten", "5;10"} {
		if err := l.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func TestClimbStopsAfterTheFirstSaturatedStep(t *testing.T) {
	var tried []float64
	sustained, err := climb(context.Background(), []float64{5, 10, 20, 50}, func(rate float64) ([]string, error) {
		tried = append(tried, rate)
		if rate >= 20 {
			return []string{"p99 > 1s"}, nil
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sustained != 10 || !slices.Equal(tried, []float64{5, 10, 20}) {
		t.Fatalf("sustained %g after trying %v, want 10 after 5, 10, 20", sustained, tried)
	}
	if got := sustainedLine(sustained, "posts", []float64{5, 10, 20, 50}); got != "highest rate sustained: 10 posts/s" {
		t.Fatalf("sustainedLine = %q", got)
	}
}

func TestClimbReportsNoneWhenTheFirstStepSaturates(t *testing.T) {
	sustained, err := climb(context.Background(), []float64{5, 10}, func(float64) ([]string, error) { return []string{"lost"}, nil })
	if err != nil || sustained != 0 {
		t.Fatalf("sustained %g, err %v; want 0, nil", sustained, err)
	}
	if got := sustainedLine(0, "posts", []float64{5, 10}); !strings.Contains(got, "none") {
		t.Fatalf("sustainedLine = %q, want it to say none", got)
	}
}

func TestClimbPassesAStepErrorOnWithItsRate(t *testing.T) {
	boom := errors.New("boom")
	_, err := climb(context.Background(), []float64{5, 10}, func(rate float64) ([]string, error) {
		if rate == 10 {
			return nil, boom
		}
		return nil, nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "10/s") {
		t.Fatalf("err = %v, want boom at 10/s", err)
	}
}

func TestSaturationNamesEveryReason(t *testing.T) {
	if r := saturation(900*time.Millisecond, 200*time.Millisecond, 0, 0, 0); len(r) != 0 {
		t.Fatalf("a step within a second saturated: %v", r)
	}
	r := saturation(2*time.Second, 3*time.Second, 1, 2, 3)
	for _, want := range []string{"p99", "backlog", "lost", "duplicated", "failed"} {
		if !strings.Contains(strings.Join(r, " "), want) {
			t.Errorf("reasons %v do not name %q", r, want)
		}
	}
	if verdict(nil) != "kept up" || !strings.HasPrefix(verdict(r), "SATURATED") {
		t.Errorf("verdicts: %q, %q", verdict(nil), verdict(r))
	}
}

func TestFeedSaturationFindsTheKnee(t *testing.T) {
	level := func(readers int, perSecond float64) feedLevel {
		return feedLevel{readers: readers, took: time.Second, latency: make([]time.Duration, int(perSecond))}
	}
	// A noisy small step (1 → 2: +5%) is not the knee.
	got := feedSaturation([]feedLevel{level(1, 500), level(2, 525), level(4, 1800), level(8, 1900), level(16, 1700)})
	if !strings.Contains(got, "at 4 readers, 1800 reads/s") || !strings.Contains(got, "1900 reads/s at 8 readers") {
		t.Fatalf("feedSaturation = %q", got)
	}
	if got := feedSaturation([]feedLevel{level(1, 500), level(2, 1000)}); !strings.Contains(got, "not reached") {
		t.Fatalf("feedSaturation = %q, want not reached", got)
	}
	if got := feedSaturation([]feedLevel{level(1, 500), level(2, 520)}); !strings.Contains(got, "at 1 readers") {
		t.Fatalf("feedSaturation = %q, want saturation at 1 reader", got)
	}
}

func TestAchievedCountsIntervalsNotSends(t *testing.T) {
	// 11 sends, one every 100 ms, span one second: 10 per second.
	if got := achieved(11, time.Second); got != 10 {
		t.Fatalf("achieved = %g, want 10", got)
	}
}
