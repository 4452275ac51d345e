package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Stampede is phase 7: concurrent misses of one key must cost one
// database query.
type Stampede struct {
	Err         error
	Concurrency int
	SelfEffect  int64   // Com_select added by reading it once
	Background  float64 // Com_select per second with no load, from clients other than the node
	IDs         []StampedeID
}

// StampedeID is what a stampede on one product cost.
type StampedeID struct {
	ID         int64
	Selects    int64   // Com_select after − before
	Probes     float64 // the nodes' own reads meanwhile that are not fills (upkeep probes, the inspector's comparisons), counted by the nodes
	Net        float64 // Selects − SelfEffect − Probes − Background × Elapsed
	Loads      float64 // gintoki_db_loads_total after − before
	Coalesced  float64 // gintoki_coalesced_waiters_total after − before
	OK         int     // 200 responses
	Elapsed    time.Duration
	FirstError string
}

// Queries is the database's count of queries for this product, rounded.
func (s StampedeID) Queries() int64 { return int64(math.Round(s.Net)) }

func (r *Report) writeStampede(w *mdWriter) {
	w.line("## 7. Stampede")
	w.line("")
	if !r.phaseDone(w, r.Stampede != nil, errOf(r.Stampede)) {
		return
	}
	s := r.Stampede
	w.line(fmt.Sprintf("Right after the service became ready (before the warm-up), for 3 random products never asked for, %s concurrent", count(float64(s.Concurrency))))
	w.line("`GET /v1/products/{id}/inventory` released together over connections opened beforehand. Database queries counted")
	w.line(fmt.Sprintf("with `SHOW GLOBAL STATUS LIKE 'Com_select'` before and after; reading it adds %d itself, and other clients added", s.SelfEffect))
	w.line(fmt.Sprintf("%.2f/s while idle (measured over 2 s first); the nodes' own reads that are not fills (upkeep probes once a second, the", s.Background))
	w.line("inspector's comparisons), which they count themselves, are subtracted exactly, the other clients' at that rate. A fill is one SELECT")
	w.line("in one snapshot transaction.")
	w.line("")
	w.line("| product | 200 OK | Com_select delta | nodes' own reads | net queries | service: loads / coalesced waiters | elapsed |")
	w.line("|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range s.IDs {
		ok := fmt.Sprintf("%d / %d", x.OK, s.Concurrency)
		if x.FirstError != "" {
			ok += " (" + oneLine(fmt.Errorf("%s", x.FirstError)) + ")"
		}
		w.row(strconv.FormatInt(x.ID, 10), ok, strconv.FormatInt(x.Selects, 10), fmt.Sprintf("%.0f", x.Probes), fmt.Sprintf("**%d** (%.2f)", x.Queries(), x.Net),
			fmt.Sprintf("%.0f / %.0f", x.Loads, x.Coalesced), x.Elapsed.Round(time.Millisecond).String())
	}
	w.line("")
}

func (r *Report) stampedeVerdict() verdict {
	const t = "Stampede: 1,000 concurrent misses of a key = 1 database query"
	if v := r.phaseMissing(t, true, r.Stampede != nil, errOf(r.Stampede)); v != nil {
		return *v
	}
	v := verdict{Target: t, Status: statusMet}
	var got []string
	failed := 0
	for _, s := range r.Stampede.IDs {
		got = append(got, fmt.Sprint(s.Queries()))
		if s.Queries() != 1 {
			v.Status, v.Note = statusMissed, "see the stampede table"
		}
		failed += r.Stampede.Concurrency - s.OK
	}
	v.Measured = fmt.Sprintf("queries per id: %v", got)
	if failed > 0 {
		v.Status, v.Note = statusMissed, fmt.Sprintf("%d requests did not get 200 OK", failed)
	}
	return v
}

func (r *Stampede) err() error {
	if r == nil {
		return nil
	}
	return r.Err
}
