package main

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// readiness remembers what the freshness policy last decided about
// readiness (every healthInterval), so that alerts and dashboards see
// exactly what load balancers see: gintoki_ready. The stale mark has its
// own gauge, gintoki_stale (watchFreshness).
type readiness struct{ ready atomic.Bool }

func (r *readiness) register(reg prometheus.Registerer) {
	gaugeFunc(reg, "gintoki_ready", "1 while /readyz answers 200 (and gRPC health says SERVING): database reachable and fills working, warehouse directory loaded, "+
		"change consumer attached and within the staleness bound.", func() float64 { return bool01(r.ready.Load()) })
}

// report is the freshness policy's report callback: it records the
// decision and passes it on to gRPC health.
func (r *readiness) report(setServing func(bool)) func(bool) {
	return func(ready bool) {
		r.ready.Store(ready)
		setServing(ready)
	}
}
