// Package app holds Gintoki's use cases: reading a product's inventory
// through the cache, coalescing concurrent misses into one database load,
// applying the change stream to what is cached, deciding when answers must
// be marked stale and when the node is ready (freshness.go), and checking
// the cache against the database while it runs (inspector.go). It declares
// the ports it needs (a Store, a Cache, Renderers, a Stream) and knows
// nothing of the adapters behind them.
//
// The fill/change protocol that keeps the cache from ever holding a value
// older than the database once the change has been consumed is described in
// docs/consistency.md; fill.go walks through its rules beside the code
// that enforces them, and Service.ApplyChange's comment shows the change
// side.
//
// It imports only the domain (package inventory) and the standard library.
package app
