package promexport

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/cache"
)

// Cache is what CacheCollector reads of the cache.
type Cache interface {
	// Stats returns the cache's current counters.
	Stats() cache.Stats
}

var _ Cache = (*cache.Cache)(nil)

var (
	descCacheEntries   = desc("gintoki_cache_entries", "Entries in the cache, negative ones included.")
	descCacheEvictions = desc("gintoki_cache_evictions_total", "Entries evicted to make room.")
	descCacheBytes     = desc("gintoki_cache_bytes", "Cache capacity in bytes (preallocated).")
)

// CacheCollector exports the cache's size and evictions.
type CacheCollector struct{ cache Cache }

// NewCacheCollector returns a collector of c's counters.
func NewCacheCollector(c Cache) *CacheCollector { return &CacheCollector{cache: c} }

// Describe implements prometheus.Collector.
func (c *CacheCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descCacheEntries, descCacheEvictions, descCacheBytes)
}

// Collect implements prometheus.Collector.
func (c *CacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.cache.Stats()
	ch <- gauge(descCacheEntries, float64(st.Entries))
	ch <- counter(descCacheEvictions, float64(st.Evictions))
	ch <- gauge(descCacheBytes, float64(st.Bytes))
}
