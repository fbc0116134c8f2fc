package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in /proc.
const clockTicks = 100

// cpuSample is the CPU time each program name (comm) on the machine has
// used so far, in clock ticks, summed over its processes.
type cpuSample map[string]int64

// sampleCPU reads /proc/<pid>/stat of every process. A process that starts
// and ends between two samples is not seen; the stack's are long-lived.
func sampleCPU() cpuSample {
	s := cpuSample{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // it ended
		}
		// pid (comm) state ... utime stime: comm may hold spaces, so cut at
		// the last ')'.
		open, end := strings.IndexByte(string(raw), '('), strings.LastIndexByte(string(raw), ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(raw[end+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		s[string(raw[open+1:end])] += utime + stime
	}
	return s
}

// printCPU prints the CPU seconds each program used between before and
// after, busiest first, leaving out those under 1% of the total.
func printCPU(out io.Writer, before, after cpuSample) {
	type use struct {
		name  string
		ticks int64
	}
	var uses []use
	var total int64
	for name, t := range after {
		if d := t - before[name]; d > 0 {
			uses = append(uses, use{name, d})
			total += d
		}
	}
	slices.SortFunc(uses, func(a, b use) int { return cmp.Compare(b.ticks, a.ticks) })
	parts := []string{}
	for _, u := range uses {
		if u.ticks*100 < total {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.1f", u.name, float64(u.ticks)/clockTicks))
	}
	fmt.Fprintf(out, "  CPU s by program (whole machine, %.1f s in all): %s\n", float64(total)/clockTicks, strings.Join(parts, ", "))
}
