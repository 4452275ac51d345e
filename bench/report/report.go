package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/probe"
)

// Report is everything one run measured, rendered by Markdown; each
// phase fills its own field (nil: the phase did not run).
type Report struct {
	Started, Finished time.Time
	Command           string
	Quick             bool
	Machine           probe.Machine
	Settings          []string
	LoadAvgEnd        string
	StackErr          error  // the services could not be started or warmed
	Ports             string // where the benchmark's processes listen
	Products          int    // products of the stack's database

	Stampede   *Stampede
	HTTP       *HTTP
	GRPC       *GRPC
	Fixed      *Fixed
	Tail       *Tail
	Fresh      *Fresh
	Memory     *Memory
	CacheBench *CacheBench
	Cold       *Cold

	Charts    []Chart // written beside the report (charts.go)
	ChartsErr error
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var w mdWriter
	w.line("# Gintoki benchmarks")
	w.line("")
	if r.Quick {
		w.line("> **Smoke run** (`GINTOKI_BENCH_QUICK=1`): every phase ran for a few seconds only. These figures show that the")
		w.line("> benchmark works end to end; they are not the figures to quote. The full run (`make bench`) replaces this file.")
		w.line("")
	}
	w.line("Produced by `make bench` (`scripts/bench.sh` → `bin/gintoki-bench`), which starts its own `gintoki serve`")
	w.line("processes and bare baselines against the local stack's MariaDB, dev broker and relay")
	w.line(fmt.Sprintf("(%s).", r.Ports))
	w.line("Medians over the rounds, with min–max in parentheses; contenders are interleaved (A B A B …) so that drift and")
	w.line("noise from other processes hit each alike. The load generators run on the same machine and share its cores with")
	w.line("the servers: absolute figures are lower bounds of what the servers do alone, ratios are the comparable part.")
	w.line("")
	r.writeMachine(&w)
	r.writeTargets(&w)
	r.writeCharts(&w)
	r.writeHTTP(&w)
	r.writeGRPC(&w)
	r.writeFixed(&w)
	r.writeTail(&w)
	r.writeFresh(&w)
	r.writeMemory(&w)
	r.writeStampede(&w)
	r.writeCold(&w)
	r.writeCacheBench(&w)
	return w.String()
}

func (r *Report) writeMachine(w *mdWriter) {
	m := r.Machine
	w.line("## Run")
	w.line("")
	w.line("| | |")
	w.line("|---|---|")
	w.row("date", r.Started.UTC().Format("2006-01-02 15:04 UTC")+fmt.Sprintf(" (%s)", r.Finished.Sub(r.Started).Round(time.Second)))
	w.row("command", "`"+r.Command+"`")
	w.row("machine", fmt.Sprintf("%d CPUs, %s", m.CPUs, m.CPUModel))
	w.row("kernel", m.Kernel)
	w.row("Go", m.GoVersion)
	w.row("Go runtime settings of the services", m.GoRuntime)
	w.row("MariaDB", m.MariaDB)
	w.row("wrk", m.Wrk)
	w.row("load average (1, 5, 15 min)", fmt.Sprintf("%s at the start, %s at the end", m.LoadAvg, r.LoadAvgEnd))
	for _, s := range r.Settings {
		k, v, _ := strings.Cut(s, ": ")
		w.row(k, v)
	}
	w.line("")
	if r.StackErr != nil {
		w.line(fmt.Sprintf("**The services could not be started or warmed:** %s", oneLine(r.StackErr)))
		w.line("")
	}
}

func (r *Report) writeTargets(w *mdWriter) {
	w.line("## Targets")
	w.line("")
	w.line("| target | measured | verdict |")
	w.line("|---|---|---|")
	for _, v := range r.verdicts() {
		verdict := "**" + v.Status + "**"
		if v.Note != "" {
			verdict += ": " + oneLine(fmt.Errorf("%s", v.Note))
		}
		w.row(v.Target, v.Measured, verdict)
	}
	w.line("")
	w.line("NOT SHOWN: the run could not create the target's conditions on this machine (said why); it is neither met nor missed.")
	w.line("")
}

// phaseDone writes why a phase has no figures and returns false, or
// returns true.
func (r *Report) phaseDone(w *mdWriter, ran bool, err error) bool {
	switch {
	case !ran && r.StackErr != nil:
		w.line("**Not run:** the services could not be started (see above).")
	case !ran:
		w.line("_Skipped._")
	case err != nil:
		w.line("**FAILED:** " + oneLine(err))
	default:
		return true
	}
	w.line("")
	return false
}
