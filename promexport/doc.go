// Package promexport exports the counters of Gintoki's parts to
// Prometheus. The parts (the cached service, the cache, the change feed
// and its consumer, the freshness policy, the warm start, the inspector,
// the relay) keep plain counters and know nothing of Prometheus; each
// collector here reads one concern's counters at scrape time and turns
// them into constant metrics, as prometheus/mysqld_exporter's collectors
// do. The only instruments observed on a hot path, the change-apply and
// relay commit → ack delay histograms, are made here too.
//
// Metric names, help texts, types and labels are a contract: the alert
// rules and the dashboard in deploy/ and the benchmark harness read them.
//
// It is an adapter: it may import app, cache, kafka, relay and the domain,
// and no package but the commands imports it (internal/archtest).
package promexport
