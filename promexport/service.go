package promexport

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
)

// Service is what ServiceCollector reads of the cached service.
type Service interface {
	// Stats returns the service's counters.
	Stats() *app.Stats
	// Marks returns how many products have a consumed change that no
	// database snapshot is known to include yet.
	Marks() int64
	// FillProblem returns why fills are failing, or nil while they work.
	FillProblem() error
}

var _ Service = (*app.Service)(nil)

var (
	descHits          = desc("gintoki_cache_hits_total", "Reads answered from the cache (product found).")
	descNegativeHits  = desc("gintoki_cache_negative_hits_total", "Reads answered from the cache's negative entries (product unknown).")
	descMisses        = desc("gintoki_cache_misses_total", "Reads that needed a database load.")
	descCoalesced     = desc("gintoki_coalesced_waiters_total", "Misses that waited for a load another read had started.")
	descLoads         = desc("gintoki_db_loads_total", "Database loads started by cache misses (one per batch of misses).")
	descLoadFailures  = desc("gintoki_db_load_failures_total", "Database loads that failed or panicked (not cached).")
	descSnapshotRetry = desc("gintoki_db_snapshot_retries_total", "Loads retried because the database snapshot was behind a consumed change.")
	descUnsafeFills   = desc("gintoki_fills_uncached_total", "Misses answered from the database uncached and marked stale: the snapshot stayed behind a change consumed for the product.")
	descInvalidations = desc("gintoki_invalidations_total", "Products (or, for a record with no readable key, the whole cache) evicted because a consumed change record could not be applied.")
	descFillMarks     = desc("gintoki_fill_marks", "Products with a consumed change that no database snapshot is known to include yet; stays near 0 unless the stream is ahead of the database.")
	descFillsFailing  = desc("gintoki_fills_failing", "1 while database fills have been failing (no success since) for a second or more; the node is then not ready.")
	descRerenders     = desc("gintoki_cache_rerenders_total", "Entries re-rendered after a warehouse change.")
	descApplied       = desc("gintoki_changes_applied_total", "Changes that altered a cached entry or the warehouse directory.")
	descIgnored       = desc("gintoki_changes_ignored_total", "Changes for uncached products, or already reflected (duplicates, replays).")
	descCorrupt       = desc("gintoki_cache_corrupt_entries_total", "Cache entries that failed to decode and were dropped.")
	descOversize      = desc("gintoki_cache_oversize_total", "Entries the cache refused to store (larger than 1/1024 of it).")
)

// ServiceCollector exports the cached service's read, fill and apply
// counters.
type ServiceCollector struct{ svc Service }

// NewServiceCollector returns a collector of svc's counters.
func NewServiceCollector(svc Service) *ServiceCollector { return &ServiceCollector{svc: svc} }

// Describe implements prometheus.Collector.
func (c *ServiceCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descHits, descNegativeHits, descMisses, descCoalesced, descLoads, descLoadFailures, descSnapshotRetry,
		descUnsafeFills, descInvalidations, descFillMarks, descFillsFailing, descRerenders, descApplied, descIgnored,
		descCorrupt, descOversize)
}

// Collect implements prometheus.Collector.
func (c *ServiceCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.Stats()
	for _, m := range []struct {
		d *prometheus.Desc
		v uint64
	}{
		{descHits, st.Hits.Load()},
		{descNegativeHits, st.NegativeHits.Load()},
		{descMisses, st.Misses.Load()},
		{descCoalesced, st.Coalesced.Load()},
		{descLoads, st.Loads.Load()},
		{descLoadFailures, st.LoadErrors.Load()},
		{descSnapshotRetry, st.SnapshotRetry.Load()},
		{descUnsafeFills, st.UnsafeFills.Load()},
		{descInvalidations, st.Invalidations.Load()},
		{descRerenders, st.Rerenders.Load()},
		{descApplied, st.ChangesApplied.Load()},
		{descIgnored, st.ChangesIgnored.Load()},
		{descCorrupt, st.CorruptEntries.Load()},
		{descOversize, st.OversizeSkips.Load()},
	} {
		ch <- counter(m.d, float64(m.v))
	}
	ch <- gauge(descFillMarks, float64(c.svc.Marks()))
	ch <- gauge(descFillsFailing, bool01(c.svc.FillProblem() != nil))
}
