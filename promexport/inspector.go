package promexport

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
)

// Inspector is what InspectorCollector reads of the live inspector.
type Inspector interface {
	// Stats returns the inspector's counters.
	Stats() *app.InspectorStats
}

var _ Inspector = (*app.Inspector)(nil)

var (
	descInspSamples  = desc("gintoki_inspector_samples_total", "Cached keys the inspector compared with a fresh database read.")
	descInspSuspects = desc("gintoki_inspector_suspects_total", "Comparisons that differed at first look (normally a change still on its way); each gets a second look after the staleness bound.")
	descInspMismatch = desc("gintoki_inspector_mismatches_total", "Cached keys that still disagreed with the database after the staleness bound, "+
		"with every change before the first read applied: a consistency bug, logged with the key. Should stay 0.")
	descInspInconclusive = desc("gintoki_inspector_inconclusive_total", "Suspects dropped without a verdict: evicted, the node stale for ten bounds, the database unreachable, or too many at once.")
	descInspPending      = desc("gintoki_inspector_suspects_pending", "Suspects waiting for their second look.")
	descInspErrors       = desc("gintoki_inspector_errors_total", "Inspector database reads or cache entries that failed.")
)

// InspectorCollector exports the live inspector's counters.
type InspectorCollector struct{ inspector Inspector }

// NewInspectorCollector returns a collector of in's counters.
func NewInspectorCollector(in Inspector) *InspectorCollector {
	return &InspectorCollector{inspector: in}
}

// Describe implements prometheus.Collector.
func (c *InspectorCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descInspSamples, descInspSuspects, descInspMismatch, descInspInconclusive, descInspPending, descInspErrors)
}

// Collect implements prometheus.Collector.
func (c *InspectorCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.inspector.Stats()
	ch <- counter(descInspSamples, float64(st.Samples.Load()))
	ch <- counter(descInspSuspects, float64(st.Suspects.Load()))
	ch <- counter(descInspMismatch, float64(st.Mismatches.Load()))
	ch <- counter(descInspInconclusive, float64(st.Inconclusive.Load()))
	ch <- gauge(descInspPending, float64(st.Pending.Load()))
	ch <- counter(descInspErrors, float64(st.Errors.Load()))
}
