package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// printMachine says where the numbers come from.
func printMachine() {
	fmt.Printf("machine: %d cores (%s), %s, %s/%s, GOMAXPROCS=%d\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at start: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// table prints rows of cells, the first column left-aligned and the others
// right-aligned, as numbers are.
type table struct {
	out  io.Writer
	rows [][]string
}

func newTable(out io.Writer, header ...string) *table {
	return &table{out: out, rows: [][]string{header}}
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) flush() {
	width := make([]int, len(t.rows[0]))
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range t.rows {
		line := "  " + r[0] + strings.Repeat(" ", width[0]-utf8.RuneCountInString(r[0]))
		for i, c := range r[1:] {
			line += "  " + strings.Repeat(" ", width[i+1]-utf8.RuneCountInString(c)) + c
		}
		fmt.Fprintln(t.out, line)
	}
}

// latencyTable prints one row per series: n, min, p50, p90, p99, max.
type latencyTable struct{ *table }

func newLatencyTable(out io.Writer) latencyTable {
	return latencyTable{newTable(out, "", "n", "min", "p50", "p90", "p99", "max")}
}

func (t latencyTable) row(name string, ds []time.Duration) {
	s := sorted(ds)
	if len(s) == 0 {
		t.add(name, "0", "-", "-", "-", "-", "-")
		return
	}
	t.add(name, strconv.Itoa(len(s)), ms(s[0]), ms(percentile(s, 50)), ms(percentile(s, 90)), ms(percentile(s, 99)), ms(s[len(s)-1]))
}

func sorted(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// spread is p50, p99 and max of ds as three cells ("-" when empty).
func spread(ds []time.Duration) []string {
	s := sorted(ds)
	if len(s) == 0 {
		return []string{"-", "-", "-"}
	}
	return []string{ms(percentile(s, 50)), ms(percentile(s, 99)), ms(s[len(s)-1])}
}

// ms prints a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	default:
		return fmt.Sprintf("%.0f ms", f)
	}
}

func heading(title string) {
	fmt.Printf("\n=== %s ===\n", title)
}
