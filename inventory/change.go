package inventory

import "time"

// Change is one row change read from the source database's change stream:
// a StockChange, a WarehouseChange or a Truncate.
type Change interface {
	// Position is where the change sits in the stream.
	Position() Position
	// Committed is when the source committed it (zero if unknown).
	Committed() time.Time
}

// StockChange sets (or deletes) the quantity of one product in one
// warehouse.
type StockChange struct {
	Product   ProductID
	Warehouse WarehouseID
	Qty       int32
	Deleted   bool
	Pos       Position
	Commit    time.Time
}

// WarehouseChange sets (or deletes) one warehouse.
type WarehouseChange struct {
	Warehouse Warehouse
	Deleted   bool
	Pos       Position
	Commit    time.Time
}

// Table names which table a Truncate emptied.
type Table int

// The source tables.
const (
	TableStock Table = iota + 1
	TableWarehouse
)

// Truncate empties a whole table.
type Truncate struct {
	Table  Table
	Pos    Position
	Commit time.Time
}

// Position implements Change.
func (c StockChange) Position() Position { return c.Pos }

// Committed implements Change.
func (c StockChange) Committed() time.Time { return c.Commit }

// Position implements Change.
func (c WarehouseChange) Position() Position { return c.Pos }

// Committed implements Change.
func (c WarehouseChange) Committed() time.Time { return c.Commit }

// Position implements Change.
func (c Truncate) Position() Position { return c.Pos }

// Committed implements Change.
func (c Truncate) Committed() time.Time { return c.Commit }

// Heartbeat is a record of the change stream that changes nothing: the
// source was caught up, with every change committed before At already in
// the stream, at At.
type Heartbeat struct {
	At time.Time
}

// Position implements Change: a heartbeat has none.
func (h Heartbeat) Position() Position { return Position{} }

// Committed implements Change.
func (h Heartbeat) Committed() time.Time { return h.At }
