package main

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/kafka"
)

// serveMetrics exports the counters of the parts of `gintoki serve`. The
// parts keep plain counters; they are read here at scrape time.
type serveMetrics struct {
	delay prometheus.Histogram
}

func counterFunc(reg prometheus.Registerer, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

func gaugeFunc(reg prometheus.Registerer, name, help string, f func() float64) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

func load(c *atomic.Uint64) func() float64 { return func() float64 { return float64(c.Load()) } }

func newServeMetrics(reg prometheus.Registerer, svc *app.Service, c *cache.Cache) *serveMetrics {
	st := svc.Stats()
	counterFunc(reg, "gintoki_cache_hits_total", "Reads answered from the cache (product found).", load(&st.Hits))
	counterFunc(reg, "gintoki_cache_negative_hits_total", "Reads answered from the cache's negative entries (product unknown).", load(&st.NegativeHits))
	counterFunc(reg, "gintoki_cache_misses_total", "Reads that needed a database load.", load(&st.Misses))
	counterFunc(reg, "gintoki_coalesced_waiters_total", "Misses that waited for a load another read had started.", load(&st.Coalesced))
	counterFunc(reg, "gintoki_db_loads_total", "Database loads started by cache misses (one per batch of misses).", load(&st.Loads))
	counterFunc(reg, "gintoki_db_load_failures_total", "Database loads that failed or panicked (not cached).", load(&st.LoadErrors))
	counterFunc(reg, "gintoki_db_snapshot_retries_total", "Loads retried because the database snapshot was behind a consumed change.", load(&st.SnapshotRetry))
	counterFunc(reg, "gintoki_fills_uncached_total", "Misses answered from the database uncached and marked stale: the snapshot stayed behind a change consumed for the product.", load(&st.UnsafeFills))
	counterFunc(reg, "gintoki_invalidations_total", "Products (or, for a record with no readable key, the whole cache) evicted because a consumed change record could not be applied.", load(&st.Invalidations))
	gaugeFunc(reg, "gintoki_fill_marks", "Products with a consumed change that no database snapshot is known to include yet; stays near 0 unless the stream is ahead of the database.", func() float64 { return float64(svc.Marks()) })
	gaugeFunc(reg, "gintoki_fills_failing", "1 while database fills have been failing (no success since) for a second or more; the node is then not ready.", func() float64 {
		if svc.FillProblem() != nil {
			return 1
		}
		return 0
	})
	counterFunc(reg, "gintoki_cache_rerenders_total", "Entries re-rendered after a warehouse change.", load(&st.Rerenders))
	counterFunc(reg, "gintoki_changes_applied_total", "Changes that altered a cached entry or the warehouse directory.", load(&st.ChangesApplied))
	counterFunc(reg, "gintoki_changes_ignored_total", "Changes for uncached products, or already reflected (duplicates, replays).", load(&st.ChangesIgnored))
	counterFunc(reg, "gintoki_cache_corrupt_entries_total", "Cache entries that failed to decode and were dropped.", load(&st.CorruptEntries))
	counterFunc(reg, "gintoki_cache_oversize_total", "Entries the cache refused to store (larger than 1/1024 of it).", load(&st.OversizeSkips))
	gaugeFunc(reg, "gintoki_cache_entries", "Entries in the cache, negative ones included.", func() float64 { return float64(c.Stats().Entries) })
	counterFunc(reg, "gintoki_cache_evictions_total", "Entries evicted to make room.", func() float64 { return float64(c.Stats().Evictions) })
	gaugeFunc(reg, "gintoki_cache_bytes", "Cache capacity in bytes (preallocated).", func() float64 { return float64(c.Stats().Bytes) })
	m := &serveMetrics{delay: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "gintoki_change_apply_delay_seconds",
		Help:    "Time from the source's commit (event source.ts_ms) to the change being applied on this node.",
		Buckets: []float64{.001, .0025, .005, .0075, .01, .015, .02, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})}
	reg.MustRegister(m.delay)
	return m
}

func (m *serveMetrics) observeDelay(d time.Duration) { m.delay.Observe(d.Seconds()) }

// watchFeed exports the change feed's and consumer's state.
func (m *serveMetrics) watchFeed(reg prometheus.Registerer, feed *app.Feed, consumer *kafka.Consumer) {
	counterFunc(reg, "gintoki_changes_total", "Change records decoded and applied.", func() float64 { return float64(feed.Applied()) })
	gaugeFunc(reg, "gintoki_change_last_applied_age_seconds", "Seconds since the last change was applied (-1: none yet).", func() float64 {
		t := feed.LastApplied()
		if t.IsZero() {
			return -1
		}
		return time.Since(t).Seconds()
	})
	gaugeFunc(reg, "gintoki_change_source_age_seconds", "Seconds since the latest source time the change stream has shown: a change's commit or a heartbeat (-1: none yet).", func() float64 {
		t := feed.SourceTime()
		if t.IsZero() {
			return -1
		}
		return time.Since(t).Seconds()
	})
	reg.MustRegister(&consumerCollector{feed: feed, consumer: consumer})
}

// watchFreshness exports the staleness bound and how the node stands
// against it. feed is nil without a change stream.
func (m *serveMetrics) watchFreshness(reg prometheus.Registerer, f *app.Freshness, feed *app.Feed) {
	gaugeFunc(reg, "gintoki_max_staleness_seconds", "The staleness bound (--max-staleness): answers not marked stale reflect every change committed more than this long ago.",
		func() float64 { return f.MaxStaleness().Seconds() })
	gaugeFunc(reg, "gintoki_staleness_seconds", "How old an answer formed now can be: every change committed more than this long ago is reflected "+
		"(widened by gintoki_source_clock_ahead_seconds; -1: not known yet, or no change stream). Answers are marked stale while it exceeds the bound.",
		func() float64 {
			if age, ok := f.Age(); ok {
				return age.Seconds()
			}
			return -1
		})
	gaugeFunc(reg, "gintoki_stale", "1 while answers are marked stale.", func() float64 { return bool01(f.Stale()) })
	if feed != nil {
		gaugeFunc(reg, "gintoki_source_clock_ahead_seconds", "How far the source's time stamps (commits, heartbeats) were seen ahead of this node's clock "+
			"in the last minute or two; the staleness measure is widened by it.", func() float64 { return feed.SourceAhead().Seconds() })
	}
}

// watchInspector exports the inspector's counters.
func (m *serveMetrics) watchInspector(reg prometheus.Registerer, in *app.Inspector) {
	st := in.Stats()
	counterFunc(reg, "gintoki_inspector_samples_total", "Cached keys the inspector compared with a fresh database read.", load(&st.Samples))
	counterFunc(reg, "gintoki_inspector_suspects_total", "Comparisons that differed at first look (normally a change still on its way); each gets a second look after the staleness bound.", load(&st.Suspects))
	counterFunc(reg, "gintoki_inspector_mismatches_total", "Cached keys that still disagreed with the database after the staleness bound, "+
		"with every change before the first read applied: a consistency bug, logged with the key. Should stay 0.", load(&st.Mismatches))
	counterFunc(reg, "gintoki_inspector_inconclusive_total", "Suspects dropped without a verdict: evicted, the node stale for ten bounds, the database unreachable, or too many at once.", load(&st.Inconclusive))
	gaugeFunc(reg, "gintoki_inspector_suspects_pending", "Suspects waiting for their second look.", func() float64 { return float64(st.Pending.Load()) })
	counterFunc(reg, "gintoki_inspector_errors_total", "Inspector database reads or cache entries that failed.", load(&st.Errors))
}

// consumerCollector reads per-partition lag and rejected-record counts at
// scrape time.
type consumerCollector struct {
	feed     *app.Feed
	consumer *kafka.Consumer
}

var (
	descLagRecords = prometheus.NewDesc("gintoki_consumer_lag_records", "Records not yet consumed, per partition, at the last probe.", []string{"topic", "partition"}, nil)
	descLagSeconds = prometheus.NewDesc("gintoki_consumer_lag_seconds", "Seconds since the partition was last known caught up: everything appended to it before then "+
		"has been consumed (up to the probe interval while it keeps up; since attaching if it has not caught up yet).", []string{"topic", "partition"}, nil)
	descAttached = prometheus.NewDesc("gintoki_consumer_attached", "1 when the change consumer is attached and its last probe of the broker succeeded.", nil, nil)
	descCaughtUp = prometheus.NewDesc("gintoki_consumer_caught_up", "1 once the consumer has read up to where the topics were when it attached.", nil, nil)
	descRejected = prometheus.NewDesc("gintoki_changes_rejected_total", "Change records skipped because they cannot be applied, by reason.", []string{"reason"}, nil)
	descEvicted  = prometheus.NewDesc("gintoki_changes_rejected_evictions_total",
		"Rejected records whose lost change made the node evict the one product they name (scope product), every entry (scope all), "+
			"or reload the warehouse directory (scope directory).", []string{"scope"}, nil)
)

func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLagRecords, descLagSeconds, descAttached, descCaughtUp, descRejected, descEvicted} {
		ch <- d
	}
}

func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.consumer.Status()
	now := time.Now()
	for _, p := range st.Partitions {
		part := itoa(p.Partition)
		since := p.CaughtUpAt
		if since.IsZero() {
			since = st.AttachedAt
		}
		ch <- prometheus.MustNewConstMetric(descLagRecords, prometheus.GaugeValue, float64(p.LagRecords), p.Topic, part)
		ch <- prometheus.MustNewConstMetric(descLagSeconds, prometheus.GaugeValue, now.Sub(since).Seconds(), p.Topic, part)
	}
	ch <- prometheus.MustNewConstMetric(descAttached, prometheus.GaugeValue, bool01(st.Attached && st.ProbeError == nil))
	ch <- prometheus.MustNewConstMetric(descCaughtUp, prometheus.GaugeValue, bool01(st.CaughtUp))
	rejected := c.feed.Rejected()
	for _, reason := range rejectReasons {
		rejected[reason] += 0 // exported at 0 before the first rejection, so that rate() and alerts see the series
	}
	for reason, n := range rejected {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(n), reason)
	}
	products, all := c.feed.Evicted()
	ch <- prometheus.MustNewConstMetric(descEvicted, prometheus.CounterValue, float64(products), "product")
	ch <- prometheus.MustNewConstMetric(descEvicted, prometheus.CounterValue, float64(all), "all")
	ch <- prometheus.MustNewConstMetric(descEvicted, prometheus.CounterValue, float64(c.feed.DirectoryReloads()), "directory")
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
