package promexport

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/kafka"
	"github.com/gintoki/gintoki/relay"
)

// ServeParts are the parts of `gintoki serve` whose counters are
// exported. The pointers that may be nil say so; the others are required.
type ServeParts struct {
	Service   *app.Service
	Cache     *cache.Cache
	Freshness *app.Freshness
	Readiness *Readiness
	// ApplyDelay is the feed's commit → applied histogram; it is exported
	// whether or not there is a change stream, as it always was.
	ApplyDelay *Delay
	// Feed and Consumer are the change stream; nil without one
	// (--no-cache).
	Feed     *app.Feed
	Consumer *kafka.Consumer
	// RejectReasons are the reasons the feed can reject a record for
	// (FeedConfig.Reason), exported at 0 before the first rejection.
	RejectReasons []string
	// Warm is the warm start's progress; nil with --warm off.
	Warm *app.WarmProgress
	// Inspector is the live inspector; nil when it is off.
	Inspector *app.Inspector
}

// ServeCollectors returns every collector of `gintoki serve` but those
// the transports and the store register themselves (their latency
// histograms, observed per request): the Go runtime and the process, GC
// pauses, and each part's counters.
func ServeCollectors(p ServeParts) []prometheus.Collector {
	cs := append(runtimeCollectors(),
		NewGCPauseCollector(),
		NewServiceCollector(p.Service),
		NewCacheCollector(p.Cache),
		NewFreshnessCollector(p.Freshness),
		p.Readiness,
		p.ApplyDelay,
		NewWarmCollector(p.Warm),
	)
	// Typed nil pointers must not become non-nil interfaces.
	if p.Feed != nil && p.Consumer != nil {
		cs = append(cs, NewFeedCollector(p.Feed, p.RejectReasons), NewConsumerCollector(p.Consumer))
	}
	if p.Inspector != nil {
		cs = append(cs, NewInspectorCollector(p.Inspector))
	}
	return cs
}

// RelayCollectors returns every collector of `gintoki relay`: the Go
// runtime and the process, the relay's counters (from relay.Relay.Stats)
// and its commit → ack histogram.
func RelayCollectors(st *relay.Stats, ackDelay *Delay) []prometheus.Collector {
	return append(runtimeCollectors(), NewRelayCollector(st), ackDelay)
}

// runtimeCollectors are client_golang's collectors of the Go runtime and
// of the process.
func runtimeCollectors() []prometheus.Collector {
	return []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
}
