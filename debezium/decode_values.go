package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// decodeStock reads a stock row. A delete carries only the row's key (and
// Qty 0): the quantity it had does not matter, and a minimal before image
// has none.
func decodeStock(row decodeRow, which string, deleted bool) (inventory.StockChange, error) {
	product, err := decodeIntColumn(row, which, "product_id", 1, math.MaxInt64)
	if err != nil {
		return inventory.StockChange{}, err
	}
	warehouse, err := decodeIntColumn(row, which, "warehouse_id", 1, math.MaxInt32)
	if err != nil {
		return inventory.StockChange{}, err
	}
	c := inventory.StockChange{
		Product:   inventory.ProductID(product),
		Warehouse: inventory.WarehouseID(warehouse),
		Deleted:   deleted,
	}
	if !deleted {
		qty, err := decodeIntColumn(row, which, "qty_salable", math.MinInt32, math.MaxInt32)
		if err != nil {
			return inventory.StockChange{}, err
		}
		c.Qty = int32(qty)
	}
	return c, nil
}

// decodeWarehouse reads a warehouse row. As for stock, a delete carries
// only the row's key.
func decodeWarehouse(row decodeRow, which string, deleted bool) (inventory.WarehouseChange, error) {
	id, err := decodeIntColumn(row, which, "id", 1, math.MaxInt32)
	if err != nil {
		return inventory.WarehouseChange{}, err
	}
	c := inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: inventory.WarehouseID(id)}, Deleted: deleted}
	if deleted {
		return c, nil
	}
	raw, ok := row["code"]
	if !ok {
		return inventory.WarehouseChange{}, fmt.Errorf("%s.code missing", which)
	}
	if decodeIsNull(raw) || json.Unmarshal(raw, &c.Warehouse.Code) != nil {
		return inventory.WarehouseChange{}, fmt.Errorf("%s.code: %s is not a string", which, decodeShort(raw))
	}
	raw, ok = row["is_active"]
	if !ok {
		return inventory.WarehouseChange{}, fmt.Errorf("%s.is_active missing", which)
	}
	// TINYINT(1) arrives as a number (Debezium's default) or as a boolean
	// (TinyIntOneToBooleanConverter, BIT(1), a BOOLEAN column). As in
	// MySQL, any non-zero number is true.
	switch string(raw) {
	case "true":
		c.Warehouse.Active = true
	case "false":
	default:
		n, err := decodeInt(raw, which+".is_active", math.MinInt64, math.MaxInt64)
		if err != nil {
			return inventory.WarehouseChange{}, fmt.Errorf("%w (want a number or a boolean)", err)
		}
		c.Warehouse.Active = n != 0
	}
	return c, nil
}

// decodeSameStockKey checks that the stock key columns present in row (a
// key or a before image) equal those of c.
func decodeSameStockKey(row decodeRow, which string, c inventory.StockChange) error {
	if err := decodeSameKey(row, which, "product_id", int64(c.Product)); err != nil {
		return err
	}
	return decodeSameKey(row, which, "warehouse_id", int64(c.Warehouse))
}

// decodeSameKey checks that column col of row, if row has it, equals want.
// Keys built from other columns (Debezium's message.key.columns) pass.
func decodeSameKey(row decodeRow, which, col string, want int64) error {
	if _, ok := row[col]; !ok {
		return nil
	}
	got, err := decodeIntColumn(row, which, col, math.MinInt64, math.MaxInt64)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s.%s is %d but the row's is %d", which, col, got, want)
	}
	return nil
}

// decodePosition reads the binlog coordinates of the event. All three are
// required: a change that cannot be ordered cannot be applied safely.
func decodePosition(src *decodeSource) (inventory.Position, error) {
	if src.File == nil || *src.File == "" {
		return inventory.Position{}, errors.New("no source.file: the change cannot be ordered")
	}
	offset, err := decodeUint(src.Pos, "source.pos", math.MaxUint64)
	if err != nil {
		return inventory.Position{}, err
	}
	row, err := decodeUint(src.Row, "source.row", math.MaxUint32)
	if err != nil {
		return inventory.Position{}, err
	}
	pos, err := inventory.ParsePosition(*src.File, offset, uint32(row))
	if err != nil {
		return inventory.Position{}, fmt.Errorf("source.file: %v", err)
	}
	return pos, nil
}

// decodeCommitTime reads source.ts_ms. Missing, null or 0 (Debezium's
// value when it does not know) is the zero time.
func decodeCommitTime(raw json.RawMessage) (time.Time, error) {
	if decodeIsNull(raw) {
		return time.Time{}, nil
	}
	ms, err := decodeInt(raw, "source.ts_ms", 0, math.MaxInt64)
	if err != nil || ms == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(ms).UTC(), nil
}

// decodeCheckSnapshot accepts source.snapshot as Debezium writes it: a
// boolean (1.x), a string ("true", "false", "first", "last",
// "incremental"... in 2.x), or absent. The decoder does not need its value:
// snapshot reads are ordered by position like every other change.
func decodeCheckSnapshot(raw json.RawMessage) error {
	if decodeIsNull(raw) {
		return nil
	}
	switch raw[0] {
	case '"', 't', 'f':
		return nil
	}
	return fmt.Errorf("source.snapshot: %s is neither a boolean nor a string", decodeShort(raw))
}

// decodeIntColumn reads an integer column of row within [lo, hi].
func decodeIntColumn(row decodeRow, which, col string, lo, hi int64) (int64, error) {
	raw, ok := row[col]
	if !ok {
		return 0, fmt.Errorf("%s.%s missing", which, col)
	}
	return decodeInt(raw, which+"."+col, lo, hi)
}

// decodeInt reads a JSON integer within [lo, hi]. Strings, fractions and
// exponents are refused: Debezium writes int16/32/64 as plain integers,
// and parsing as float would lose precision above 2^53.
func decodeInt(raw json.RawMessage, field string, lo, hi int64) (int64, error) {
	if decodeIsNull(raw) {
		return 0, fmt.Errorf("%s is null or missing", field)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%s: %s is out of range [%d, %d]", field, decodeShort(raw), lo, hi)
	case err != nil:
		return 0, fmt.Errorf("%s: %s is not an integer", field, decodeShort(raw))
	case n < lo || n > hi:
		return 0, fmt.Errorf("%s: %d is out of range [%d, %d]", field, n, lo, hi)
	}
	return n, nil
}

// decodeUint reads a non-negative JSON integer no greater than hi.
func decodeUint(raw json.RawMessage, field string, hi uint64) (uint64, error) {
	if decodeIsNull(raw) {
		return 0, fmt.Errorf("%s is null or missing: the change cannot be ordered", field)
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && n > hi:
		return 0, fmt.Errorf("%s: %s is out of range [0, %d]", field, decodeShort(raw), hi)
	case err != nil:
		return 0, fmt.Errorf("%s: %s is not a non-negative integer", field, decodeShort(raw))
	}
	return n, nil
}

// decodeIsNull reports whether raw is absent or the JSON null.
func decodeIsNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// decodeShort quotes at most 40 bytes of raw, so that an error about a
// hostile record stays small.
func decodeShort(raw []byte) string {
	const limit = 40
	if len(raw) > limit {
		return strconv.Quote(string(raw[:limit])) + "..."
	}
	return string(raw)
}

// decodeQuote quotes s, shortened like decodeShort.
func decodeQuote(s string) string {
	const limit = 40
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
