package promexport

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
)

// Freshness is what FreshnessCollector reads of the staleness policy.
type Freshness interface {
	// MaxStaleness returns the staleness bound.
	MaxStaleness() time.Duration
	// Age returns how old an answer formed now can be; ok is false while
	// it is not known.
	Age() (age time.Duration, ok bool)
	// Stale reports whether answers are marked stale now.
	Stale() bool
}

var _ Freshness = (*app.Freshness)(nil)

var (
	descMaxStaleness = desc("gintoki_max_staleness_seconds", "The staleness bound (--max-staleness): answers not marked stale reflect every change committed more than this long ago.")
	descStaleness    = desc("gintoki_staleness_seconds", "How old an answer formed now can be: every change committed more than this long ago is reflected "+
		"(widened by gintoki_source_clock_ahead_seconds; -1: not known yet, or no change stream). Answers are marked stale while it exceeds the bound.")
	descStale = desc("gintoki_stale", "1 while answers are marked stale.")
)

// FreshnessCollector exports the staleness bound and how the node stands
// against it.
type FreshnessCollector struct{ fresh Freshness }

// NewFreshnessCollector returns a collector of f's state.
func NewFreshnessCollector(f Freshness) *FreshnessCollector { return &FreshnessCollector{fresh: f} }

// Describe implements prometheus.Collector.
func (c *FreshnessCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descMaxStaleness, descStaleness, descStale)
}

// Collect implements prometheus.Collector.
func (c *FreshnessCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- gauge(descMaxStaleness, c.fresh.MaxStaleness().Seconds())
	age := -1.0
	if a, ok := c.fresh.Age(); ok {
		age = a.Seconds()
	}
	ch <- gauge(descStaleness, age)
	ch <- gauge(descStale, bool01(c.fresh.Stale()))
}
