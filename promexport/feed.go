package promexport

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
)

// Feed is what FeedCollector reads of the change feed.
type Feed interface {
	// Applied returns the number of changes applied.
	Applied() uint64
	// LastApplied returns when the last change was applied (zero: none).
	LastApplied() time.Time
	// SourceTime returns the latest source time the stream has shown
	// (zero: none yet).
	SourceTime() time.Time
	// SourceAhead returns how far the source's clock was lately seen
	// ahead of this node's.
	SourceAhead() time.Duration
	// Rejected returns the count of skipped records by reason.
	Rejected() map[string]uint64
	// Evicted returns how many rejected records evicted one product's
	// entry, and how many evicted every entry.
	Evicted() (products, all uint64)
	// DirectoryReloads returns how many rejected records made the node
	// reload its warehouse directory.
	DirectoryReloads() uint64
}

var _ Feed = (*app.Feed)(nil)

var (
	descChanges          = desc("gintoki_changes_total", "Change records decoded and applied.")
	descLastAppliedAge   = desc("gintoki_change_last_applied_age_seconds", "Seconds since the last change was applied (-1: none yet).")
	descSourceAge        = desc("gintoki_change_source_age_seconds", "Seconds since the latest source time the change stream has shown: a change's commit or a heartbeat (-1: none yet).")
	descSourceClockAhead = desc("gintoki_source_clock_ahead_seconds", "How far the source's time stamps (commits, heartbeats) were seen ahead of this node's clock "+
		"in the last minute or two; the staleness measure is widened by it.")
	descRejected = prometheus.NewDesc("gintoki_changes_rejected_total", "Change records skipped because they cannot be applied, by reason.", []string{"reason"}, nil)
	descEvicted  = prometheus.NewDesc("gintoki_changes_rejected_evictions_total",
		"Rejected records whose lost change made the node evict the one product they name (scope product), every entry (scope all), "+
			"or reload the warehouse directory (scope directory).", []string{"scope"}, nil)
)

// FeedCollector exports the change feed's counters: changes applied, how
// recent the stream is, and the records it rejected.
type FeedCollector struct {
	feed    Feed
	reasons []string
	now     func() time.Time
}

// NewFeedCollector returns a collector of feed's counters. reasons are the
// reasons a record can be rejected for: each is exported at 0 before its
// first rejection, so that rate() and alerts see the series.
func NewFeedCollector(feed Feed, reasons []string) *FeedCollector {
	return &FeedCollector{feed: feed, reasons: reasons, now: time.Now}
}

// Describe implements prometheus.Collector.
func (c *FeedCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descChanges, descLastAppliedAge, descSourceAge, descSourceClockAhead, descRejected, descEvicted)
}

// Collect implements prometheus.Collector.
func (c *FeedCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	ch <- counter(descChanges, float64(c.feed.Applied()))
	ch <- gauge(descLastAppliedAge, ageOrNone(now, c.feed.LastApplied()))
	ch <- gauge(descSourceAge, ageOrNone(now, c.feed.SourceTime()))
	ch <- gauge(descSourceClockAhead, c.feed.SourceAhead().Seconds())
	rejected := c.feed.Rejected()
	for reason, n := range rejected {
		ch <- counter(descRejected, float64(n), reason)
	}
	for _, reason := range c.reasons {
		if _, ok := rejected[reason]; !ok {
			ch <- counter(descRejected, 0, reason)
		}
	}
	products, all := c.feed.Evicted()
	ch <- counter(descEvicted, float64(products), "product")
	ch <- counter(descEvicted, float64(all), "all")
	ch <- counter(descEvicted, float64(c.feed.DirectoryReloads()), "directory")
}

// ageOrNone is the seconds from t to now, or -1 if t is zero (never).
func ageOrNone(now, t time.Time) float64 {
	if t.IsZero() {
		return -1
	}
	return now.Sub(t).Seconds()
}
