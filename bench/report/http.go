package report

import "fmt"

// HTTP is phases 1 and 2: the HTTP hit path against the bare
// baseline and against the database-only service.
type HTTP struct {
	Err                   error
	Gintoki, Bare, DBOnly *LoadStats
}

func (r *Report) writeHTTP(w *mdWriter) {
	w.line("## 1–2. HTTP hit path, and the database-only mode")
	w.line("")
	w.line(fmt.Sprintf("`wrk` closed loop on `GET /v1/products/{id}/inventory`, ids uniformly random over 1..%d, every product cached", r.Products))
	w.line("beforehand (batch POSTs of 1,000 ids). **bare net/http** is a minimal `net/http` server (`gintoki-bench bare-http`,")
	w.line("its own process) writing the same pre-encoded JSON bytes, fetched from the service once, from a Go map.")
	w.line("**--no-cache** is `gintoki serve --no-cache`: every request reads MariaDB (one consistent-snapshot load).")
	w.line("")
	if !r.phaseDone(w, r.HTTP != nil, errOf(r.HTTP)) {
		return
	}
	h := r.HTTP
	writeLoadTable(w, false, h.Gintoki, h.Bare, h.DBOnly)
	w.line(fmt.Sprintf("gintoki / bare: **%.2f×** req/s, **%.2f×** p99. gintoki / db-only: **%.1f×** req/s.",
		h.Gintoki.RPS.Median()/h.Bare.RPS.Median(), h.Gintoki.P99.Median()/h.Bare.P99.Median(), h.Gintoki.RPS.Median()/h.DBOnly.RPS.Median()))
	w.line("")
}

func (r *Report) httpThroughputVerdict() verdict {
	const t = "HTTP hit path: req/s ≥ 0.9× bare net/http"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.RPS.Median() / r.HTTP.Bare.RPS.Median()
	return atLeast(t, fmt.Sprintf("%.2f× (%s vs %s req/s)", got, count(r.HTTP.Gintoki.RPS.Median()), count(r.HTTP.Bare.RPS.Median())), got, targetHTTPRatio)
}

func (r *Report) httpP99Verdict() verdict {
	const t = "HTTP hit path: p99 ≤ 1.2× bare net/http"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.P99.Median() / r.HTTP.Bare.P99.Median()
	return atMost(t, fmt.Sprintf("%.2f× (%.2f vs %.2f ms)", got, r.HTTP.Gintoki.P99.Median(), r.HTTP.Bare.P99.Median()), got, targetHTTPP99Ratio)
}

func (r *Report) dbOnlyVerdict() verdict {
	const t = "Cache pays: req/s ≥ 4× the database-only mode"
	if v := r.phaseMissing(t, true, r.HTTP != nil, errOf(r.HTTP)); v != nil {
		return *v
	}
	got := r.HTTP.Gintoki.RPS.Median() / r.HTTP.DBOnly.RPS.Median()
	return atLeast(t, fmt.Sprintf("%.1f× (%s vs %s req/s)", got, count(r.HTTP.Gintoki.RPS.Median()), count(r.HTTP.DBOnly.RPS.Median())), got, targetDBOnlyRatio)
}

func (r *HTTP) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
