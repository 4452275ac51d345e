package report

import (
	"fmt"
	"strings"

	"github.com/gintoki/gintoki/bench/loadgen"
	"github.com/gintoki/gintoki/bench/stats"
)

// Fixed is phase 4: fixed request rates with vegeta.
type Fixed struct {
	Err  error
	Runs []loadgen.FixedResult
}

func (r *Report) writeFixed(w *mdWriter) {
	w.line("## 4. Fixed rate")
	w.line("")
	w.line("Open loop with the vegeta library (in `gintoki-bench`) on `GET /cache?product_id=<random id>`, cache warm, with up to")
	w.line(fmt.Sprintf("%d requests in flight (workers and connections; unbounded, vegeta turns a hiccup of a saturated machine into a", loadgen.FixedMaxInFlight))
	w.line("storm of new connections and ends up measuring itself). A sent rate below the target is put down to the generator")
	w.line("when it used more CPU than the service (it could not pace the requests), else to the service.")
	w.line("")
	if !r.phaseDone(w, r.Fixed != nil, errOf(r.Fixed)) {
		return
	}
	w.line("| target req/s | sent req/s | success | p50 ms | p90 ms | p99 ms | max ms | service CPU | vegeta CPU | rate held back by |")
	w.line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, x := range r.Fixed.Runs {
		w.row(count(float64(x.Target)), count(x.Sent), successText(x), msf(stats.MS(x.P50)), msf(stats.MS(x.P90)), msf(stats.MS(x.P99)), msf(stats.MS(x.Max)),
			coresf(x.ServiceCores), coresf(x.GenCores), limitText(x))
	}
	w.line("")
}

// successText renders a fixed-rate run's success share and its errors.
func successText(x loadgen.FixedResult) string {
	s := Pct(x.Success)
	if len(x.Errors) > 0 {
		s += " (" + oneLine(fmt.Errorf("%s", strings.Join(x.Errors, "; "))) + ")"
	}
	return s
}

// limitText says what held a fixed-rate run below its target.
func limitText(x loadgen.FixedResult) string {
	switch x.Limit() {
	case "":
		return "nothing: target reached"
	case "generator":
		return fmt.Sprintf("the generator (%.1f%% short)", 100*(1-x.Sent/float64(x.Target)))
	}
	return fmt.Sprintf("the service (%.1f%% short, %d requests in flight)", 100*(1-x.Sent/float64(x.Target)), x.InFlight)
}

func (r *Report) fixedVerdict() verdict {
	const t = "16,700 req/s (1M/min) with 100% success"
	if v := r.phaseMissing(t, true, r.Fixed != nil, errOf(r.Fixed)); v != nil {
		return *v
	}
	var run *loadgen.FixedResult
	for i := range r.Fixed.Runs {
		if x := &r.Fixed.Runs[i]; x.Target >= TargetFixedRate && (run == nil || x.Target < run.Target) {
			run = x
		}
	}
	if run == nil {
		return verdict{Target: t, Status: statusSkipped, Note: "no run at 16,700 req/s or more (--rates)"}
	}
	v := verdict{Target: t, Measured: fmt.Sprintf("sent %s req/s, %s success, p99 %.2f ms", count(run.Sent), Pct(run.Success), stats.MS(run.P99))}
	switch {
	case run.Success < 1:
		v.Status, v.Note = statusMissed, fmt.Sprintf("%s of requests failed", Pct(1-run.Success))
	case run.Limit() == "generator":
		v.Status = statusNotShown
		v.Note = fmt.Sprintf("the generator sent only %s req/s (%.1f%% short) and used more CPU than the service (%.2f vs %.2f cores): every request was answered, but vegeta on the same %s could not offer the rate",
			count(run.Sent), 100*(1-run.Sent/float64(run.Target)), run.GenCores, run.ServiceCores, cores(r.Machine.CPUs))
	case run.Limit() == "service":
		v.Status = statusMissed
		v.Note = fmt.Sprintf("only %s req/s went out with %d requests waiting for the service (%.1f%% short)", count(run.Sent), run.InFlight, 100*(1-run.Sent/float64(run.Target)))
	default:
		v.Status = statusMet
	}
	return v
}

func (r *Fixed) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
