package loadgen

import (
	"cmp"
	"slices"
	"time"

	"github.com/gintoki/gintoki/bench/stats"
)

// Sample is one request of an open-loop load.
type Sample struct {
	At      time.Duration // when it was scheduled, from the load's start
	Lat     time.Duration // from its schedule to its answer (or failure)
	OK      bool          // answered 2xx
	Retried bool          // sent again on a new connection (see OpenLoop)
}

// Timeline records every request of an open-loop load, so that latency
// and failures can be cut into windows afterwards (a rolling restart's).
// Each connection's goroutine appends to its own slice: no lock on the
// request path.
type Timeline struct {
	start  time.Time
	byConn [][]Sample
}

// Start is when the load began: the origin of every sample's At.
func (t *Timeline) Start() time.Time { return t.start }

// begin is called by the load before its connections start.
func (t *Timeline) begin(start time.Time, conns int) {
	t.start = start
	t.byConn = make([][]Sample, conns)
}

// record is called by connection c's goroutine for each of its requests.
func (t *Timeline) record(c int, at time.Time, lat time.Duration, ok, retried bool) {
	t.byConn[c] = append(t.byConn[c], Sample{At: at.Sub(t.start), Lat: lat, OK: ok, Retried: retried})
}

// Samples returns every request in the order of their schedule; call it
// once the load has returned.
func (t *Timeline) Samples() []Sample {
	var out []Sample
	for _, s := range t.byConn {
		out = append(out, s...)
	}
	slices.SortFunc(out, func(a, b Sample) int { return cmp.Compare(a.At, b.At) })
	return out
}

// LatencyStats summarises the requests of a window.
type LatencyStats struct {
	Requests, Failed, Retried int
	P50, P99, Max             time.Duration
}

// Summarise computes the statistics of samples.
func Summarise(samples []Sample) LatencyStats {
	var st LatencyStats
	lat := make([]time.Duration, 0, len(samples))
	for _, s := range samples {
		st.Requests++
		if !s.OK {
			st.Failed++
		}
		if s.Retried {
			st.Retried++
		}
		lat = append(lat, s.Lat)
	}
	slices.Sort(lat)
	st.P50, st.P99 = stats.Percentile(lat, 0.50), stats.Percentile(lat, 0.99)
	if len(lat) > 0 {
		st.Max = lat[len(lat)-1]
	}
	return st
}
