package main

import (
	"cmp"
	"slices"
	"time"
)

// sample is one request of an open-loop load.
type sample struct {
	At      time.Duration // when it was scheduled, from the load's start
	Lat     time.Duration // from its schedule to its answer (or failure)
	OK      bool          // answered 2xx
	Retried bool          // sent again on a new connection (see openLoop)
}

// timeline records every request of an open-loop load, so that latency
// and failures can be cut into windows afterwards (a rolling restart's).
// Each connection's goroutine appends to its own slice: no lock on the
// request path.
type timeline struct {
	start  time.Time
	byConn [][]sample
}

// begin is called by the load before its connections start.
func (t *timeline) begin(start time.Time, conns int) {
	t.start = start
	t.byConn = make([][]sample, conns)
}

// record is called by connection c's goroutine for each of its requests.
func (t *timeline) record(c int, at time.Time, lat time.Duration, ok, retried bool) {
	t.byConn[c] = append(t.byConn[c], sample{At: at.Sub(t.start), Lat: lat, OK: ok, Retried: retried})
}

// samples returns every request in the order of their schedule; call it
// once the load has returned.
func (t *timeline) samples() []sample {
	var out []sample
	for _, s := range t.byConn {
		out = append(out, s...)
	}
	slices.SortFunc(out, func(a, b sample) int { return cmp.Compare(a.At, b.At) })
	return out
}

// latencyStats summarises the requests of a window.
type latencyStats struct {
	Requests, Failed, Retried int
	P50, P99, Max             time.Duration
}

// summarise computes the statistics of samples.
func summarise(samples []sample) latencyStats {
	var st latencyStats
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
	st.P50, st.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if len(lat) > 0 {
		st.Max = lat[len(lat)-1]
	}
	return st
}
