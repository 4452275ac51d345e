package inventory

import (
	"slices"
	"strconv"
)

// ProductID identifies a product. Valid ids are positive.
type ProductID int64

// ParseProductID parses a decimal product id and validates it.
func ParseProductID(s string) (ProductID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, Errorf(CodeInvalid, "product id %q is not an integer", s)
	}
	id := ProductID(n)
	return id, id.Validate()
}

// Validate returns a CodeInvalid error unless id is positive.
func (id ProductID) Validate() error {
	if id <= 0 {
		return Errorf(CodeInvalid, "product id %d must be positive", int64(id))
	}
	return nil
}

// Row is one stock row of a product as a node knows it: the quantity held
// in one warehouse, and the stream position that row reflects. A deleted
// row is kept as a tombstone so that a replayed older change cannot bring it
// back.
type Row struct {
	Warehouse WarehouseID
	Qty       int32
	Deleted   bool
	Version   Position
}

// Record is everything a node knows about one product: every stock row in
// every warehouse, active or not, sorted by warehouse id. Floor is the
// position of the database snapshot the record was loaded from; the record
// reflects every change before Floor, and each row also reflects every
// change to it up to its own Version.
//
// A Record with no live row is a negative entry: the product does not exist
// (yet).
type Record struct {
	Product ProductID
	Floor   Position
	Rows    []Row
}

// Exists reports whether the product has at least one live stock row.
func (r *Record) Exists() bool {
	for i := range r.Rows {
		if !r.Rows[i].Deleted {
			return true
		}
	}
	return false
}

// Apply applies one stock change to the record and reports whether the
// record changed. It is the rule that keeps values from going back in time:
// a change older than what the row already reflects (before the record's
// Floor, or before the row's Version) is ignored, so duplicates and replays
// are harmless. A change at exactly the row's version is applied again,
// which is idempotent. Apply panics if c is for another product.
func (r *Record) Apply(c StockChange) bool {
	if c.Product != r.Product {
		panic("inventory: change for product " + strconv.FormatInt(int64(c.Product), 10) +
			" applied to record of product " + strconv.FormatInt(int64(r.Product), 10))
	}
	if c.Pos.Before(r.Floor) {
		return false
	}
	i, found := slices.BinarySearchFunc(r.Rows, c.Warehouse, func(row Row, w WarehouseID) int {
		return int(row.Warehouse) - int(w)
	})
	next := Row{Warehouse: c.Warehouse, Qty: c.Qty, Deleted: c.Deleted, Version: c.Pos}
	if next.Deleted {
		next.Qty = 0
	}
	if !found {
		r.Rows = slices.Insert(r.Rows, i, next)
		return true
	}
	if c.Pos.Before(r.Rows[i].Version) {
		return false
	}
	changed := r.Rows[i] != next
	r.Rows[i] = next
	return changed
}

// NewRecord builds the record of a product loaded from a database snapshot
// taken at pos. Every row gets pos as its version.
func NewRecord(product ProductID, pos Position, stock []Stock) Record {
	rows := make([]Row, len(stock))
	for i, s := range stock {
		rows[i] = Row{Warehouse: s.Warehouse, Qty: s.Qty, Version: pos}
	}
	slices.SortFunc(rows, func(a, b Row) int { return int(a.Warehouse) - int(b.Warehouse) })
	return Record{Product: product, Floor: pos, Rows: rows}
}

// Stock is a quantity of a product held in a warehouse, as stored in the
// source database.
type Stock struct {
	Warehouse WarehouseID
	Qty       int32
}

// Truncate applies the emptying of the whole stock table at pos: every row
// older than pos is gone, and no change before pos can apply any more. Rows
// already at or after pos (changes that committed after the truncate and
// were consumed first, from another partition) stay. It reports whether the
// record changed.
func (r *Record) Truncate(pos Position) bool {
	if pos.Before(r.Floor) {
		return false
	}
	r.Floor = pos
	kept := r.Rows[:0]
	for _, row := range r.Rows {
		if !row.Version.Before(pos) {
			kept = append(kept, row)
		}
	}
	changed := len(kept) != len(r.Rows)
	clear(r.Rows[len(kept):])
	r.Rows = kept
	return changed
}
