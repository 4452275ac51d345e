// Package phase is the benchmark's phases and the run that strings them
// together (`gintoki-bench run`): each phase is a method of Env in a file
// of its own (stampede.go, http.go, grpc.go, fixed.go, tail.go, fresh.go,
// memory.go, cold.go, cachebench.go), All lists them in the order they
// run with what each needs, and Parse turns --phases into a Selection of
// them. A phase drives
// the stack's processes (package stack) with the load generators (loadgen),
// reads what they show (probe) and records its figures in the report
// (report), which renders and judges them.
//
// It imports stats, probe, loadgen, stack and report of the harness and
// no package of the service; it must not import fleet or the command, and
// only the command imports it.
package phase

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Phase is one part of the benchmark: its name in --phases, what it
// needs before it runs, and the method of Env that runs it and records
// its outcome (a failure too: the report says so) in the report.
type Phase struct {
	name  string
	needs Needs
	run   func(*Env, context.Context)
}

// Name is the phase's key in --phases.
func (p Phase) Name() string { return p.name }

// Needs says what must be in place before the phase runs.
func (p Phase) Needs() Needs { return p.needs }

// Run runs the phase; it returns when done or when ctx ends.
func (p Phase) Run(ctx context.Context, env *Env) { p.run(env, ctx) }

// Needs is a set of what a phase needs before it runs.
type Needs uint8

// What a phase can need.
const (
	// NeedStack: the cached service on the stack's database, started once
	// for every phase that needs it and stopped after the last of them.
	NeedStack Needs = 1 << iota
	// NeedColdCache: with NeedStack, a service that has not yet been
	// asked for anything: the phase runs before the warm-up that caches
	// every product (and that the other NeedStack phases run after).
	NeedColdCache
	// NeedBaselines: the bare HTTP and gRPC servers, started after the
	// warm-up over the bodies it fetched.
	NeedBaselines
	// NeedDBOnly: the database-only service (`gintoki serve --no-cache`).
	NeedDBOnly
	// NeedWrk: wrk on the PATH.
	NeedWrk
)

// All is every phase, in the order they run: those that need a cold
// cache, then those that need the stack's warmed services, then those
// that start their own (TestRegistryOrder checks it). Each runs a method
// of Env in the file of its name.
var All = Selection{
	// Phase 7: 1,000 concurrent requests for each of 3 products never
	// asked for, right after the service started, must cost one database
	// query each.
	{"stampede", NeedStack | NeedColdCache, func(e *Env, ctx context.Context) { e.rep.Stampede = e.stampedePhase(ctx) }},
	// Phases 1 and 2: wrk against the cached service, the bare net/http
	// server and the database-only service, interleaved.
	{"http", NeedStack | NeedBaselines | NeedDBOnly | NeedWrk, func(e *Env, ctx context.Context) { e.rep.HTTP = e.httpPhase(ctx) }},
	// Phase 3: the gRPC load generator against the cached service and the
	// bare gRPC server, GetInventory and BatchGetInventory.
	{"grpc", NeedStack | NeedBaselines, func(e *Env, ctx context.Context) { e.rep.GRPC = e.grpcPhase(ctx) }},
	// Phase 4: vegeta at fixed request rates against the cached service.
	{"fixed", NeedStack, func(e *Env, ctx context.Context) { e.rep.Fixed = e.fixedPhase(ctx) }},
	// Phase 4b: the cached service and the bare net/http server under the
	// same open-loop load on one hot key, interleaved.
	{"tail", NeedStack | NeedBaselines, func(e *Env, ctx context.Context) { e.rep.Tail = e.tailPhase(ctx) }},
	// Phase 5: how long an UPDATE takes to show in the cached service's
	// answers while it serves a heavy read load.
	{"fresh", NeedStack, func(e *Env, ctx context.Context) { e.rep.Fresh = e.freshPhase(ctx) }},
	// Phase 6: a service of its own with every product of a 1M-product
	// database resident: memory and GC pauses.
	{"memory", NeedWrk, func(e *Env, ctx context.Context) { e.rep.Memory = e.memoryPhase(ctx) }},
	// Phase 8: fresh nodes over the 1M-product database against the naive
	// server, misses alone and after a warm start.
	{"cold", NeedWrk, func(e *Env, ctx context.Context) { e.rep.Cold = e.coldPhase(ctx) }},
	// The cache library comparison: go test -bench on package cachebench.
	{"cachebench", 0, func(e *Env, ctx context.Context) { e.rep.CacheBench = e.cacheBenchPhase(ctx) }},
}

// Selection is a set of phases, in the order of All.
type Selection []Phase

// Names returns the phases' names.
func (s Selection) Names() []string {
	out := make([]string, len(s))
	for i, p := range s {
		out[i] = p.Name()
	}
	return out
}

// Needs is what the phases need, together.
func (s Selection) Needs() Needs {
	var n Needs
	for _, p := range s {
		n |= p.Needs()
	}
	return n
}

// Parse reads --phases: "all", or a comma-separated list of phase names
// (in any order, each at most once counted); the phases run in the order
// of All whatever the order given. An unknown name is an error that lists
// the valid ones.
func Parse(s string) (Selection, error) {
	if s == "all" {
		return All, nil
	}
	names := All.Names()
	want := make([]bool, len(All))
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		i := slices.Index(names, name)
		if i < 0 {
			return nil, fmt.Errorf("--phases: unknown phase %q (want all or some of %s)", name, strings.Join(names, ","))
		}
		want[i] = true
	}
	var out Selection
	for i, p := range All {
		if want[i] {
			out = append(out, p)
		}
	}
	return out, nil
}
