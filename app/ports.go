package app

import (
	"context"

	"github.com/gintoki/gintoki/inventory"
)

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
	// Set stores the entry for id, replacing any previous one. It returns an
	// error if the entry cannot be stored (too large).
	Set(id inventory.ProductID, entry []byte) error
	// Delete removes the entry for id.
	Delete(id inventory.ProductID)
	// Clear removes every entry.
	Clear()
}

// Renderer encodes a product's inventory as one transport's response body.
// The Service renders each entry once per fill or change, never per read.
type Renderer interface {
	AppendInventory(dst []byte, inv *inventory.Inventory) []byte
}
