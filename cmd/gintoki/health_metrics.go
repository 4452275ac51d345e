package main

import "github.com/prometheus/client_golang/prometheus"

// registerHealthMetrics exports what /readyz and the stale mark say, as
// reportHealth last decided them (every 250 ms), so that alerts and
// dashboards see exactly what load balancers and clients see:
// gintoki_ready and gintoki_answers_stale.
func registerHealthMetrics(reg prometheus.Registerer, f *freshness) {
	gaugeFunc(reg, "gintoki_ready", "1 while /readyz answers 200 (and gRPC health says SERVING): database reachable, warehouse directory loaded, change consumer attached, caught up and within the bound.", func() float64 {
		return bool01(f.readyNow.Load())
	})
	gaugeFunc(reg, "gintoki_answers_stale", "1 while answers are marked stale (X-Gintoki-Stale, gRPC trailer gintoki-stale): the change stream is behind the bound, unreachable, or silent.", func() float64 {
		return bool01(f.stale())
	})
}
