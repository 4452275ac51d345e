package fleet

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/probe"
	"github.com/gintoki/gintoki/bench/stats"
)

// fleetWindow is what one window of a rolling restart measured.
type fleetWindow struct {
	Label  string
	Length time.Duration
	loadgen.LatencyStats
	Questions, Selects float64 // database statements and SELECTs per second
	DBOK               bool    // the database rates were measured
	CPUBusy            float64 // share of the machine's CPU time busy (0 to 1), -1 if not measured
	Events             []string
}

// fleetReport is the outcome of `gintoki-bench fleet-load`.
type fleetReport struct {
	Title       string
	Load        string // how the load was generated
	Total       loadgen.LatencyStats
	Steady      fleetWindow
	Restarts    []fleetWindow
	AllRestarts fleetWindow
	P99Ratio    float64 // restart windows' p99 over the steady state's
	Errors      []string
	Rate        int     // the target rate, req/s
	Sent        float64 // the rate sent
	MaxFailed   int
	MaxRatio    float64
}

// analyseFleet cuts the load's samples and the database's readings into
// the steady state and the restart windows the events mark.
func analyseFleet(samples []loadgen.Sample, start time.Time, events []fleetEvent, db []probe.DBStatus, cpu []probe.CPUTimes) (fleetReport, error) {
	var rep fleetReport
	end := start
	if len(samples) > 0 {
		end = start.Add(samples[len(samples)-1].At + time.Nanosecond)
	}
	steady, restarts, err := fleetWindows(events, start, end)
	if err != nil {
		return rep, err
	}
	window := func(label string, spans []span) fleetWindow {
		w := fleetWindow{Label: label, Length: spansLength(spans), LatencyStats: loadgen.Summarise(inSpans(samples, start, spans))}
		w.Questions, w.Selects, w.DBOK = dbRates(db, spans)
		w.CPUBusy = cpuBusy(cpu, spans)
		return w
	}
	rep.Total = loadgen.Summarise(samples)
	rep.Steady = window("steady state", steady)
	for _, r := range restarts {
		w := window("restart of "+r.Label, []span{r})
		for _, e := range r.Events {
			w.Events = append(w.Events, fmt.Sprintf("%s +%.1fs", e.Name, e.At.Sub(r.From).Seconds()))
		}
		rep.Restarts = append(rep.Restarts, w)
	}
	rep.AllRestarts = window("all restart windows", restarts)
	if rep.Steady.P99 > 0 {
		rep.P99Ratio = float64(rep.AllRestarts.P99) / float64(rep.Steady.P99)
	}
	return rep, nil
}

// misses lists the targets the run missed, with the figures.
func (r *fleetReport) misses() []string {
	var out []string
	if r.Sent < 0.98*float64(r.Rate) {
		out = append(out, fmt.Sprintf("the load fell behind its schedule: %.0f of %d req/s sent (the fleet could not keep up; latencies include the delay)", r.Sent, r.Rate))
	}
	if r.Total.Failed > r.MaxFailed {
		out = append(out, fmt.Sprintf("failed requests: %d of %d (target ≤ %d)", r.Total.Failed, r.Total.Requests, r.MaxFailed))
	}
	if len(r.Restarts) == 0 {
		out = append(out, "no restart window was marked")
	} else if r.P99Ratio > r.MaxRatio || r.Steady.Requests == 0 {
		out = append(out, fmt.Sprintf("p99 in the restart windows %s = %.2f× the steady state's %s (target ≤ %g×)",
			fmtMS(r.AllRestarts.P99), r.P99Ratio, fmtMS(r.Steady.P99), r.MaxRatio))
	}
	return out
}

func fmtMS(d time.Duration) string { return strconv.FormatFloat(stats.MS(d), 'f', 2, 64) + " ms" }

// Markdown renders the report as a section of a Markdown file.
func (r *fleetReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", r.Title)
	fmt.Fprintf(&b, "%s\n\n", r.Load)
	b.WriteString("| window | length | requests | failed | retried | p50 | p99 | max | DB statements/s | DB SELECTs/s | machine CPU busy |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	row := func(w fleetWindow) {
		q, s, c := "–", "–", "–"
		if w.DBOK {
			q, s = fmt.Sprintf("%.0f", w.Questions), fmt.Sprintf("%.0f", w.Selects)
		}
		if w.CPUBusy >= 0 {
			c = fmt.Sprintf("%.0f%%", 100*w.CPUBusy)
		}
		fmt.Fprintf(&b, "| %s | %.1f s | %d | %d | %d | %s | %s | %s | %s | %s | %s |\n", w.Label, w.Length.Seconds(), w.Requests, w.Failed, w.Retried,
			fmtMS(w.P50), fmtMS(w.P99), fmtMS(w.Max), q, s, c)
	}
	row(r.Steady)
	for _, w := range r.Restarts {
		row(w)
	}
	row(r.AllRestarts)
	fmt.Fprintf(&b, "\nWhole run: %d requests, %d failed, %d retried on a new connection after a kept-alive one closed under them.\n",
		r.Total.Requests, r.Total.Failed, r.Total.Retried)
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "Errors seen: %s.\n", strings.Join(r.Errors, "; "))
	}
	b.WriteString("\nEach restart, from its window's start:\n\n")
	for _, w := range r.Restarts {
		fmt.Fprintf(&b, "- %s: %s\n", w.Label, strings.Join(w.Events, ", "))
	}
	b.WriteString("\n| target | measured | |\n|---|---|---|\n")
	verdict := func(ok bool) string {
		if ok {
			return "**MET**"
		}
		return "**MISSED**"
	}
	fmt.Fprintf(&b, "| the load sent at its rate (≥ 98%%) | %.0f of %d req/s | %s |\n", r.Sent, r.Rate, verdict(r.Sent >= 0.98*float64(r.Rate)))
	fmt.Fprintf(&b, "| failed requests ≤ %d | %d | %s |\n", r.MaxFailed, r.Total.Failed, verdict(r.Total.Failed <= r.MaxFailed))
	ratioOK := len(r.Restarts) > 0 && r.Steady.Requests > 0 && r.P99Ratio <= r.MaxRatio
	fmt.Fprintf(&b, "| p99 in the restart windows ≤ %g× the steady state's | %.2f× (%s against %s) | %s |\n",
		r.MaxRatio, r.P99Ratio, fmtMS(r.AllRestarts.P99), fmtMS(r.Steady.P99), verdict(ratioOK))
	if r.Steady.DBOK && r.AllRestarts.DBOK && r.Steady.Questions > 0 {
		fmt.Fprintf(&b, "| database statements/s in the restart windows against the steady state (reported) | %.2f× (%.0f against %.0f; SELECTs %.0f against %.0f) | |\n",
			r.AllRestarts.Questions/r.Steady.Questions, r.AllRestarts.Questions, r.Steady.Questions, r.AllRestarts.Selects, r.Steady.Selects)
	}
	b.WriteString("\n")
	return b.String()
}

// writeFleetCSV writes the load per window of width step: when it starts
// (seconds from the load's start, and Unix milliseconds), the requests,
// failures, retries and latency quantiles of the requests scheduled in it,
// the database's statements and SELECTs per second, the share of the
// machine's CPU time that was busy, and the phase (steady, the node
// restarting, or empty).
func writeFleetCSV(w io.Writer, samples []loadgen.Sample, start time.Time, step time.Duration, events []fleetEvent, db []probe.DBStatus, cpu []probe.CPUTimes) error {
	end := start
	if len(samples) > 0 {
		end = start.Add(samples[len(samples)-1].At + time.Nanosecond)
	}
	steady, restarts, err := fleetWindows(events, start, end)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"t_s", "unix_ms", "requests", "failed", "retried", "p50_ms", "p99_ms", "max_ms", "db_statements_per_s", "db_selects_per_s", "cpu_busy_pct", "phase"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	i := 0
	for from := start; from.Before(end); from = from.Add(step) {
		to := from.Add(step)
		j := i
		for j < len(samples) && start.Add(samples[j].At).Before(to) {
			j++
		}
		st := loadgen.Summarise(samples[i:j])
		i = j
		q, s := "", ""
		// The rate between the readings around this window.
		if k := slices.IndexFunc(db, func(r probe.DBStatus) bool { return !r.At.Before(to) }); k > 0 {
			dt := db[k].At.Sub(db[k-1].At).Seconds()
			q, s = f((db[k].Questions-db[k-1].Questions)/dt), f((db[k].Selects-db[k-1].Selects)/dt)
		}
		c := ""
		if k := slices.IndexFunc(cpu, func(r probe.CPUTimes) bool { return !r.At.Before(to) }); k > 0 {
			if share := probe.BusyShare(cpu[k-1], cpu[k]); share >= 0 {
				c = strconv.FormatFloat(100*share, 'f', 1, 64)
			}
		}
		phase := ""
		mid := from.Add(step / 2)
		for _, sp := range steady {
			if sp.contains(mid) {
				phase = "steady"
			}
		}
		for _, sp := range restarts {
			if sp.contains(mid) {
				phase = "restart " + sp.Label
			}
		}
		_ = cw.Write([]string{f(from.Sub(start).Seconds()), strconv.FormatInt(from.UnixMilli(), 10), strconv.Itoa(st.Requests),
			strconv.Itoa(st.Failed), strconv.Itoa(st.Retried), f(stats.MS(st.P50)), f(stats.MS(st.P99)), f(stats.MS(st.Max)), q, s, c, phase})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
