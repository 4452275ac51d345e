package promexport

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gintoki/gintoki/app"
)

var (
	descWarming     = desc("gintoki_warming", "1 while the node warms its cache before reporting ready (--warm); /readyz answers \"warming\" meanwhile.")
	descWarmLoaded  = desc("gintoki_warm_products_loaded_total", "Products the warm start has read into the cache (found or not, already cached ones included).")
	descWarmTarget  = desc("gintoki_warm_target_products", "Products the warm start is to read, when known (a key list: file: or peer:); 0 when it warms every product.")
	descWarmSeconds = desc("gintoki_warm_seconds", "How long the warm start has run, or ran (0: never began).")
)

// WarmCollector exports the warm start's progress.
type WarmCollector struct{ progress *app.WarmProgress }

// NewWarmCollector returns a collector of p. With no warm start (p nil)
// the series exist all the same: 0, and not warming.
func NewWarmCollector(p *app.WarmProgress) *WarmCollector {
	if p == nil {
		p = new(app.WarmProgress)
		p.Done.Store(true)
	}
	return &WarmCollector{progress: p}
}

// Describe implements prometheus.Collector.
func (c *WarmCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, descWarming, descWarmLoaded, descWarmTarget, descWarmSeconds)
}

// Collect implements prometheus.Collector.
func (c *WarmCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.progress
	ch <- gauge(descWarming, bool01(!p.Done.Load()))
	ch <- counter(descWarmLoaded, float64(p.Loaded.Load()))
	ch <- gauge(descWarmTarget, float64(p.Target.Load()))
	ch <- gauge(descWarmSeconds, p.Elapsed().Seconds())
}
