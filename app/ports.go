package app

import (
	"context"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// Reader is what the transports serve: a product's inventory, or a
// batch's, as response bodies already encoded in the format the transport
// asks for. Service
// reads through the cache; mysql.Direct, the benchmark's database-only
// baseline, reads the database on every call.
type Reader interface {
	// Get appends product id's body to dst. stale is true for an answer
	// the node could not cache and marks stale (see Service.Get). Errors
	// are *inventory.Error or the context's error.
	Get(ctx context.Context, id inventory.ProductID, format BodyFormat, dst []byte) (body []byte, stale bool, err error)
	// GetBatch reads every distinct id of ids (see Service.GetBatch).
	GetBatch(ctx context.Context, ids []inventory.ProductID, format BodyFormat) (BatchResult, error)
}

var _ Reader = (*Service)(nil)

// Store reads the source database.
type Store interface {
	// LoadProducts reads the stock rows of the given products, in every
	// warehouse active or not, in one consistent snapshot, and returns them
	// with the snapshot's position in the change stream: every change
	// before that position is in the snapshot and none at or after it is.
	// Products without rows are absent from the result. Errors are
	// *inventory.Error with CodeUnavailable when the database cannot be
	// reached.
	LoadProducts(ctx context.Context, ids []inventory.ProductID) (Snapshot, error)

	// LoadWarehouses reads every warehouse in one consistent snapshot, with
	// the snapshot's position.
	LoadWarehouses(ctx context.Context) ([]inventory.Warehouse, inventory.Position, error)
}

// Snapshot is the result of Store.LoadProducts.
type Snapshot struct {
	Pos   inventory.Position
	Stock map[inventory.ProductID][]inventory.Stock
}

// Cache holds encoded entries by product id, bounded in bytes. It may drop
// any entry at any time to make room. Implementations are safe for
// concurrent use; the Service serialises writes to one key itself.
type Cache interface {
	// Get appends the entry for id to dst and reports whether it was found.
	Get(dst []byte, id inventory.ProductID) ([]byte, bool)
	// Read calls r.ReadEntry with the entry for id where the cache holds
	// it, and reports whether it was found. The read path uses it to copy
	// out only the body it answers with.
	Read(id inventory.ProductID, r EntryReader) bool
	// ReadMany calls r.ReadEntryAt(i, entry) for every ids[i] the cache
	// holds, like Read, in increasing i. It looks the ids up together,
	// so that their memory loads overlap rather than wait for one
	// another: it is the batch read's path. The ids are distinct.
	ReadMany(ids []inventory.ProductID, r ManyEntryReader)
	// Set stores the entry for id, replacing any previous one. It returns an
	// error if the entry cannot be stored (too large).
	Set(id inventory.ProductID, entry []byte) error
	// Delete removes the entry for id.
	Delete(id inventory.ProductID)
	// Clear removes every entry.
	Clear()
	// Sample returns the key of a cached entry, a different one on each
	// call until every entry has had its turn (false if the cache is
	// empty). Entries that change meanwhile may be skipped or repeated. It
	// is for inspection at a low rate, not for the read path.
	Sample() (inventory.ProductID, bool)
}

// An EntryReader reads a cache entry in place (Cache.Read).
type EntryReader interface {
	// ReadEntry is called with the entry, under the cache's lock: it
	// copies what it keeps, returns quickly and does not call the cache.
	ReadEntry(entry []byte)
}

// A ManyEntryReader reads the entries of a batch in place (Cache.ReadMany).
type ManyEntryReader interface {
	// ReadEntryAt is called with the entry of the batch's i-th id, under
	// the cache's locks: it copies what it keeps, returns quickly and does
	// not call the cache.
	ReadEntryAt(i int, entry []byte)
}

// Renderer encodes a product's inventory as one transport's response body.
// The Service renders each entry once per fill or change, never per read.
type Renderer interface {
	AppendInventory(dst []byte, inv *inventory.Inventory) []byte
}

// BodyFormat says which body a read asks for: the index of its Renderer among
// the renderers given to New. The wiring names one constant per transport
// (JSON for HTTP, protobuf for gRPC) and hands each transport its own; the
// use cases never look at a body's format.
type BodyFormat int

// StreamHorizon is how far a node has read the change stream.
type StreamHorizon struct {
	// Consumed: every record appended to the topics before this instant
	// (this node's clock) has been applied. Zero: not yet caught up with
	// the topics as they were when the consumer attached.
	Consumed time.Time
	// Source: every change the source committed before this instant (the
	// source's clock) has been applied. It is the latest commit or
	// heartbeat time the node had consumed when it took the probe that
	// Consumed comes from.
	Source time.Time
}

// StreamState is the change consumer's connection to the broker.
type StreamState struct {
	Attached   bool  // start offsets resolved, consuming
	ProbeError error // the last probe of the broker failed with it (nil: it answered)
	LagRecords int64 // records not yet consumed at the last probe
}

// Stream is the change consumer, as the freshness policy sees it.
type Stream interface {
	// Horizon returns how far the node has read. It is called on every
	// read and must not block.
	Horizon() StreamHorizon
	// State returns the consumer's connection state.
	State() StreamState
}
