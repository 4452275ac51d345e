package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// result is everything one run saw, for the checks and the report.
type result struct {
	Seed        uint64
	T0          time.Time // the run's clock starts here
	Dir         string
	Bound       time.Duration
	BoundFlags  string
	Hist        *history
	Obs         []observation
	Faults      []fault
	Errors      map[string]int
	Writes      [3]int // committed, failed, uncertain (then resolved)
	Violations  []violation
	Known       []violation // matched by a known issue asked for: listed, not failing
	UnmarkedMax staleness   // the oldest answer not marked stale
	StaleCount  int         // answers marked stale
	Groups      int         // row and warehouse series checked for monotonicity
	Topics      topicCheck
	LogsOK      map[string]int // explained error lines by reason
	Converged   time.Duration
	Latency     latencies
	ReadStart   time.Duration // when the readers started
	Elapsed     time.Duration
}

// runOnce runs one seed on a fresh stack: start it, write and read while
// injecting faults, stop faults and writes, then check.
func runOnce(ctx context.Context, cfg config, seed uint64, bins binaries, log *slog.Logger) (*result, error) {
	t0 := time.Now()
	clock := func() time.Duration { return time.Since(t0) }
	dir := cfg.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "gintoki-torture-"); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
	} else {
		dir = filepath.Join(dir, fmt.Sprintf("seed-%d", seed))
		if err := mkdir(dir); err != nil {
			return nil, err
		}
	}
	res := &result{Seed: seed, T0: t0, Dir: dir, Bound: cfg.Bound, BoundFlags: strings.Join(cfg.boundFlags(), " ")}
	rng := func(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }
	m := newModel(cfg.Products, cfg.Warehouses, cfg.Hot, rng(1))
	res.Hist = newHistory(cfg.Products, cfg.Warehouses)
	s, err := newStack(dir, bins, cfg, log)
	if err != nil {
		return res, err
	}
	defer s.stop()
	wr := &writer{m: m, h: res.Hist, rng: rng(2), clock: clock, rate: cfg.WriteRate}
	log.Info("starting the stack", "dir", dir)
	var beforeNodes func() error
	if !cfg.FreshTopics {
		beforeNodes = func() error {
			wr.db = s.sql
			if err := wr.warmUp(ctx); err != nil {
				return err
			}
			return waitTopics(ctx, s.brokerAddr, 30*time.Second, stockTopic, warehouseTopic, heartbeatTopic)
		}
	}
	if err := s.start(ctx, wr.seed, beforeNodes); err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	wr.db = s.sql
	log.Info("stack ready; writing, reading and injecting faults", "at", clock().Round(time.Millisecond))

	stats := &readStats{errors: map[string]int{}}
	res.ReadStart = clock()
	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	var readers []*reader
	var wg sync.WaitGroup
	for _, n := range s.nodes {
		for i := range cfg.Readers {
			r := &reader{n: n, rng: rng(uint64(100 + n.i*10 + i)), clock: clock, products: cfg.Products, hot: cfg.Hot,
				pause: cfg.ReadPause, stats: stats}
			readers = append(readers, r)
			wg.Go(func() { r.run(readCtx) })
		}
	}
	writeCtx, stopWrites := context.WithCancel(ctx)
	defer stopWrites()
	writeErr := make(chan error, 1)
	go func() { writeErr <- wr.run(writeCtx) }()

	// Faults start after a second of calm, and end early enough that the
	// last one is healed with the bound to spare before writes stop.
	start := clock()
	inj := &injector{s: s, rng: rng(3), clock: clock, cfg: cfg, log: log}
	time.Sleep(min(time.Second, cfg.Duration/10))
	injErr := inj.run(ctx, start+cfg.Duration-cfg.Bound-time.Second)
	res.Faults = inj.faults
	if rest := start + cfg.Duration - clock(); rest > 0 && injErr == nil {
		select {
		case <-ctx.Done():
		case <-time.After(rest):
		}
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	stopWrites()
	if err := <-writeErr; err != nil {
		return res, fmt.Errorf("writer: %w", err)
	}
	res.Writes = [3]int{wr.committed, wr.failed, wr.uncertain}
	time.Sleep(time.Second) // reads of the last writes
	stopReads()
	wg.Wait()
	if injErr != nil {
		return res, injErr
	}
	for _, r := range readers {
		res.Obs = append(res.Obs, r.out...)
	}
	res.Errors = stats.errors
	for _, e := range stats.parseErr {
		res.Violations = append(res.Violations, violation{Kind: "malformed", Node: -1, Msg: e})
	}
	log.Info("quiescent; checking", "at", clock().Round(time.Millisecond), "observations", len(res.Obs))
	if err := check(ctx, cfg, s, res); err != nil {
		return res, err
	}
	res.Elapsed = clock()
	return res, nil
}

// check runs every check on a quiescent stack and a finished run.
func check(ctx context.Context, cfg config, s *stack, res *result) error {
	bad, took, err := converge(ctx, s, res.Hist, cfg.Converge)
	if err != nil {
		return err
	}
	res.Converged = took
	res.Violations = append(res.Violations, bad...)

	for i := range res.Obs {
		o := &res.Obs[i]
		if o.Stale {
			res.StaleCount++
			continue
		}
		age, bad := answerAge(res.Hist, o)
		res.Violations = append(res.Violations, bad...)
		if age.Age > res.UnmarkedMax.Age {
			res.UnmarkedMax = age
		}
		if age.Age > cfg.Bound {
			what := fmt.Sprintf("p%d/w%d #%d", age.P, age.W, age.Lacked.Seq)
			if age.Wh {
				what = fmt.Sprintf("warehouse %s", warehouseCode(age.W, age.Lacked.Seq))
			}
			res.Violations = append(res.Violations, violation{Kind: "stale-unmarked", At: o.Sent, Node: o.Node, P: age.P, W: age.W,
				Age: age.Age, Ref: age.Lacked.Done,
				Msg: fmt.Sprintf("node%d answered a request sent at %s (%s) without the stale mark, %s old: it lacks %s, committed at %s",
					o.Node, at(o.Sent), kindOf(o), age.Age.Round(time.Millisecond), what, at(age.Lacked.Done))})
		}
	}
	groups, bad := monotonic(res.Obs)
	res.Groups = groups
	res.Violations = append(res.Violations, bad...)

	if res.Topics, err = checkTopics(ctx, s.brokerAddr, res.Hist); err != nil {
		return err
	}
	for _, m := range res.Topics.Missing {
		res.Violations = append(res.Violations, violation{Kind: "topic-missing", Node: -1, Msg: "committed but not in the topics: " + m})
	}
	for _, u := range res.Topics.Unknown {
		res.Violations = append(res.Violations, violation{Kind: "topic-unknown", Node: -1, Msg: "in the topics but never committed: " + u})
	}
	res.Latency = visibility(res.Hist, res.Obs, res.Faults, cfg.Hot, cfg.Nodes, cfg.Bound, res.ReadStart)

	s.stop() // logs are complete once every process has exited
	bad, res.LogsOK, err = scanLogs(s.logs(), logWindows(res.T0, res.Faults))
	res.Violations = append(res.Violations, bad...)
	setKnownApart(res, cfg.known)
	return err
}

func kindOf(o *observation) string {
	if o.Batch {
		return "batch"
	}
	return "single"
}

// hasMaxStaleness reports whether the gintoki binary knows --max-staleness.
func hasMaxStaleness(bin string) bool {
	out, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	return strings.Contains(string(out), "--max-staleness")
}
