package promexport

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

var descReady = desc("gintoki_ready", "1 while /readyz answers 200 (and gRPC health says SERVING): database reachable and fills working, warehouse directory loaded, "+
	"change consumer attached and within the staleness bound.")

// Readiness remembers what the freshness policy last decided about
// readiness (it reports periodically), and exports it as gintoki_ready,
// so that alerts and dashboards see exactly what load balancers see. The
// stale mark has its own gauge, gintoki_stale (FreshnessCollector). Its
// zero value is not ready.
type Readiness struct{ ready atomic.Bool }

// Report records a readiness decision.
func (r *Readiness) Report(ready bool) { r.ready.Store(ready) }

// Describe implements prometheus.Collector.
func (r *Readiness) Describe(ch chan<- *prometheus.Desc) { ch <- descReady }

// Collect implements prometheus.Collector.
func (r *Readiness) Collect(ch chan<- prometheus.Metric) {
	ch <- gauge(descReady, bool01(r.ready.Load()))
}
