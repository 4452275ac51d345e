package report

import (
	"fmt"
	"strconv"

	"github.com/gintoki/gintoki/bench/stats"
)

// CacheBench is the cache library comparison: the committed
// benchmark of package cachebench, summarised.
type CacheBench struct {
	Err     error
	Command string
	Rows    []CacheBenchRow
}

// CacheBenchRow is one benchmark over its -count runs.
type CacheBenchRow struct {
	Name   string // e.g. BenchmarkGet/freecache-2
	NsOp   stats.Series
	BOp    stats.Series
	Allocs stats.Series
}

func (r *Report) writeCacheBench(w *mdWriter) {
	w.line("## Cache library comparison")
	w.line("")
	c := r.CacheBench
	if c == nil {
		w.line("_Skipped._")
		w.line("")
		return
	}
	w.line(fmt.Sprintf("`%s`: the committed benchmark that chose the cache library (package `cachebench`); 1M", c.Command))
	w.line("entries of 200–400 bytes, uniformly random ids. Medians over the runs, min–max in parentheses.")
	w.line("")
	if c.Err != nil {
		w.line("**FAILED:** " + oneLine(c.Err))
		w.line("")
		return
	}
	w.line("| benchmark | ns/op | B/op | allocs/op |")
	w.line("|---|---:|---:|---:|")
	for _, x := range c.Rows {
		w.row(x.Name, spread(x.NsOp, func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }),
			num(x.BOp.Median()), num(x.Allocs.Median()))
	}
	w.line("")
}
