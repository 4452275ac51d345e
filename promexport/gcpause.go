package promexport

import (
	"math"
	"runtime/metrics"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// gcPauseMetric is the runtime's histogram of stop-the-world pauses for
// garbage collection (two per cycle), including the time to stop the world.
const gcPauseMetric = "/sched/pauses/total/gc:seconds"

// gcPauseBounds are the exported buckets' upper bounds, in seconds: fine
// around 1 ms, where a GC pause target usually sits. The Go collector of
// client_golang exports the same runtime histogram with about one bucket
// per power of ten, which cannot say whether a pause took 0.9 or 9 ms.
var gcPauseBounds = []float64{
	.000025, .00005, .0001, .0002, .0003, .0005, .00075,
	.001, .0015, .002, .003, .005, .01, .025, .05, .1,
}

// GCPauseCollector exports the runtime's GC pause histogram as
// gintoki_gc_pause_seconds, read at scrape time.
type GCPauseCollector struct {
	desc *prometheus.Desc

	mu     sync.Mutex // guards sample
	sample []metrics.Sample
}

// NewGCPauseCollector returns the collector of gintoki_gc_pause_seconds.
func NewGCPauseCollector() *GCPauseCollector {
	return &GCPauseCollector{
		desc: prometheus.NewDesc("gintoki_gc_pause_seconds",
			"Stop-the-world GC pauses since the process started (runtime/metrics "+gcPauseMetric+"), "+
				"each counted in the first bucket at or above the upper edge of its runtime bucket (~6% wide); "+
				"the sum is estimated from the runtime buckets' midpoints.", nil, nil),
		sample: []metrics.Sample{{Name: gcPauseMetric}},
	}
}

// Describe implements prometheus.Collector.
func (c *GCPauseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *GCPauseCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	metrics.Read(c.sample)
	v := c.sample[0].Value
	c.mu.Unlock()
	if v.Kind() != metrics.KindFloat64Histogram {
		return // not in this Go version: export nothing rather than zeros
	}
	count, sum, buckets := rebucket(v.Float64Histogram(), gcPauseBounds)
	ch <- prometheus.MustNewConstHistogram(c.desc, count, sum, buckets)
}

// rebucket maps a runtime histogram onto cumulative buckets with the given
// upper bounds (ascending): each runtime bucket [lo, hi) counts in every
// bound ≥ hi, so a pause is never reported faster than it may have been.
// The sum is estimated from the runtime buckets' midpoints (their finite
// edge for the open-ended first and last).
func rebucket(h *metrics.Float64Histogram, bounds []float64) (count uint64, sum float64, cumulative map[float64]uint64) {
	cumulative = make(map[float64]uint64, len(bounds))
	for _, b := range bounds {
		cumulative[b] = 0
	}
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		count += n
		switch {
		case math.IsInf(lo, -1):
			sum += float64(n) * hi
		case math.IsInf(hi, 1):
			sum += float64(n) * lo
		default:
			sum += float64(n) * (lo + hi) / 2
		}
		for _, b := range bounds {
			if hi <= b {
				cumulative[b] += n
			}
		}
	}
	return count, sum, cumulative
}
