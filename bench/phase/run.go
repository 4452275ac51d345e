package phase

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/report"
	"github.com/gintoki/gintoki/bench/stack"
)

// Run is `gintoki-bench run`: it runs the phases cfg selects, prints the
// Markdown report to stdout and, with cfg.Report set, writes it there with
// its charts beside it. Progress goes to stderr. cfg has been resolved and
// validated.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	phases, err := Parse(cfg.Phases)
	if err != nil {
		return err
	}
	b := &Env{cfg: cfg, addrs: cfg.Addrs(), phases: phases, log: stderr, client: newHTTPClient(256)}
	defer b.close()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	b.runPhases(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if cfg.Report != "" {
		b.rep.Charts, b.rep.ChartsErr = report.RenderCharts(filepath.Dir(cfg.Report), &b.rep)
	}
	md := b.rep.Markdown()
	if _, err := io.WriteString(stdout, md); err != nil {
		return fmt.Errorf("print report: %w", err)
	}
	if cfg.Report != "" {
		if err := os.WriteFile(cfg.Report, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		b.logf("report written to %s", cfg.Report)
	}
	return nil
}

// runPhases runs the selected phases in the registry's order: those that
// need a cold cache, then (once the cached service is warmed) the others
// that need the stack's services, which are then stopped to free the
// machine for the phases that start their own. A phase that fails is
// reported as failed; the others still run, unless ctx ends.
func (b *Env) runPhases(ctx context.Context) {
	var cold, warm, own Selection
	for _, p := range b.phases {
		switch n := p.Needs(); {
		case n&NeedStack == 0:
			own = append(own, p)
		case n&NeedColdCache != 0:
			cold = append(cold, p)
		default:
			warm = append(warm, p)
		}
	}
	if len(cold)+len(warm) > 0 {
		if err := b.startStack(ctx); err != nil {
			b.rep.StackErr = err
			b.logf("cannot start the services: %v", err)
		}
	}
	if len(cold)+len(warm) > 0 && b.rep.StackErr == nil {
		for _, p := range cold {
			p.Run(ctx, b)
		}
		if err := b.warm(ctx); err != nil {
			b.rep.StackErr = err
			b.logf("warm-up failed: %v", err)
		} else {
			for _, p := range warm {
				p.Run(ctx, b)
			}
		}
	}
	for _, p := range []*stack.Proc{b.bareGRPC, b.bareHTTP, b.noCache, b.cached} {
		b.stopProc(p)
	}
	for _, p := range own {
		if ctx.Err() == nil {
			p.Run(ctx, b)
		}
	}
	b.rep.Finished = time.Now()
	b.rep.LoadAvgEnd = probe.LoadAvg()
}
