// Package app holds Gintoki's use cases: reading a product's inventory
// through the cache, coalescing concurrent misses into one database load,
// and applying the change stream to what is cached. It declares the ports
// it needs (a Store, a Cache, Renderers) and knows nothing of the adapters
// behind them.
//
// The fill/change protocol that keeps the cache from ever holding a value
// older than the database once the change has been consumed is described in
// docs/consistency.md; the comments on flight and Service.ApplyChange
// walk through the interleavings it defends against.
package app
