package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings-dev/tidings/infra/local/serving"
	"github.com/tidings-dev/tidings/infra/local/stack"
)

// idleMemory brings up the stack with every backing service its own (private
// Postgres, Redis and MinIO as child processes, Kafka and the mail catcher
// in this process), starts every function once, waits until all of them
// have scaled to zero, and sums the memory of this process and all its
// descendants.
func idleMemory(ctx context.Context, repo string, o options) error {
	heading("the local stack's memory with every function scaled to zero")
	wd, fnOut, err := newWorkDir("memory", o.verbose)
	if err != nil {
		return err
	}
	failed := true
	defer func() { wd.cleanup(failed) }()
	ports, err := freePorts()
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "starting the stack with private backing services…")
	s, err := stack.Up(ctx, stack.Options{
		RepoDir: repo, DataDir: wd.dir, Ports: ports,
		Env:         func(string) string { return "" }, // every backing service our own, so it counts
		IdleTimeout: o.idle,
		Progress:    os.Stderr, FunctionOutput: fnOut, Logger: quietLogger(),
	})
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	binDir := filepath.Join(wd.dir, "bin")

	// Start every function once through its Service address, as a request
	// or an event delivery would.
	var names []string
	for _, svc := range s.Topology().Services {
		names = append(names, svc.Name)
		path := svc.ReadinessPath
		if path == "" {
			path = "/"
		}
		if err := touch(ctx, s.ServiceURL(svc.Name)+path); err != nil {
			return fmt.Errorf("start %s: %w", svc.Name, err)
		}
	}
	slices.Sort(names)
	running := measureTree(binDir)

	fmt.Fprintf(os.Stderr, "waiting for %d functions to scale to zero (idle timeout %s)…\n", len(names), o.idle)
	deadline := time.Now().Add(o.idle + 60*time.Second)
	for {
		var up []string
		for _, n := range names {
			if st := s.Service(n).State(); st != serving.StateStopped {
				up = append(up, n+" "+string(st))
			}
		}
		if len(up) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not scaled to zero after %s: %s", o.idle+60*time.Second, strings.Join(up, ", "))
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Stopped means SIGTERM was sent and the process reaped; give the
	// kernel a moment to account for it anyway, then wait for no function
	// process to be left.
	var idle tree
	for {
		idle = measureTree(binDir)
		if idle.functions == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	fmt.Printf("conditions: %d functions (%s), idle timeout %s; Kafka (kfake) and the mail catcher run inside the bench process;\n",
		len(names), strings.Join(names, ", "), o.idle)
	fmt.Printf("            RSS counts shared pages in every process that maps them, PSS splits them (the honest sum)\n")
	idle.print(os.Stdout)
	fmt.Printf("function processes still running: %d\n", idle.functions)
	fmt.Printf("for contrast, with all %d functions running: total RSS %s, PSS %s (%d function processes, %s PSS)\n",
		len(names), mib(running.rss), mib(running.pss), running.functions, mib(running.functionPSS))
	if idle.functions != 0 {
		return fmt.Errorf("%d function processes still running after every Service reported stopped", idle.functions)
	}
	failed = false
	return nil
}

func touch(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, body)
	}
	return nil
}

// proc is one process of the tree.
type proc struct {
	pid, ppid int
	name      string // comm
	exe       string
	cmd       string // short command line (Postgres puts each process's role there)
	rss, pss  int64  // bytes
}

type tree struct {
	procs       []proc
	rss, pss    int64
	functions   int   // processes running a function binary
	functionPSS int64 // their PSS
}

// measureTree reads /proc for this process and every descendant of it.
// Function processes are those whose executable lives in binDir.
func measureTree(binDir string) tree {
	all := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			all[pid] = p
		}
	}
	self := os.Getpid()
	var t tree
	for pid, p := range all {
		if !descends(all, pid, self) {
			continue
		}
		t.procs = append(t.procs, p)
		t.rss += p.rss
		t.pss += p.pss
		if strings.HasPrefix(p.exe, binDir+string(filepath.Separator)) {
			t.functions++
			t.functionPSS += p.pss
		}
	}
	slices.SortFunc(t.procs, func(a, b proc) int { return int(b.rss - a.rss) })
	return t
}

func descends(all map[int]proc, pid, ancestor int) bool {
	for range 64 { // deeper than any real tree; guards against a pid loop
		if pid == ancestor {
			return true
		}
		p, ok := all[pid]
		if !ok || p.ppid == 0 {
			return false
		}
		pid = p.ppid
	}
	return false
}

func readProc(pid int) (proc, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	p := proc{pid: pid, ppid: ppid, name: s[open+1 : end]}
	p.exe, _ = os.Readlink(filepath.Join(dir, "exe"))
	p.cmd = commandLine(dir, p.name)
	p.rss = kB(filepath.Join(dir, "status"), "VmRSS:")
	p.pss = kB(filepath.Join(dir, "smaps_rollup"), "Pss:")
	return p, true
}

func commandLine(dir, fallback string) string {
	raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil || len(raw) == 0 {
		return fallback
	}
	args := strings.Fields(strings.ReplaceAll(string(raw), "\x00", " "))
	if len(args) == 0 {
		return fallback
	}
	args[0] = filepath.Base(args[0])
	line := strings.Join(args, " ")
	if r := []rune(line); len(r) > 60 {
		line = string(r[:59]) + "…"
	}
	return line
}

// kB reads a "Key:   123 kB" line and returns bytes.
func kB(path, key string) int64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

func (t tree) print(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  pid\tprocess\tRSS\tPSS")
	self := os.Getpid()
	for _, p := range t.procs {
		what := p.cmd
		if p.pid == self {
			what = "bench (stack: gateway, serving, eventing, kfake, mail catcher)"
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\n", p.pid, what, mib(p.rss), mib(p.pss))
	}
	fmt.Fprintf(w, "  \ttotal (%d processes)\t%s\t%s\n", len(t.procs), mib(t.rss), mib(t.pss))
	w.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
