// The per-table mapping: from an envelope of a tracked table to the
// domain's change, with the key checked against the row.

package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/gintoki/gintoki/inventory"
)

// stockProductOf returns the product a stock record names, if it names
// exactly one: every product_id in its key and row images must be a valid
// id, and the same. A truncate names every product.
func stockProductOf(op string, key, value []byte) (inventory.ProductID, bool) {
	if op == "t" {
		return 0, false
	}
	var rows []columns
	k, err := parseKey(key)
	if err != nil {
		return 0, false
	}
	rows = append(rows, k)
	if env, ok, err := parseEnvelope(value); err == nil && ok {
		for _, img := range []json.RawMessage{env.Before, env.After} {
			r, err := parseRow(img, "row")
			if err != nil {
				return 0, false
			}
			rows = append(rows, r)
		}
	}
	var id int64
	for _, r := range rows {
		raw, ok := r["product_id"]
		if !ok {
			continue
		}
		n, err := jsonInt(raw, "product_id", 1, math.MaxInt64)
		if err != nil || (id != 0 && n != id) {
			return 0, false
		}
		id = n
	}
	return inventory.ProductID(id), id != 0
}

// changeOf decodes an event of a known table and op; its errors are
// wrapped in ErrMalformed by Decode.
func changeOf(kind inventory.Table, op string, env envelope, key []byte) (inventory.Change, error) {
	if env.Source == nil {
		return nil, errors.New("no source: the change cannot be ordered")
	}
	pos, err := positionOf(env.Source)
	if err != nil {
		return nil, err
	}
	commit, err := commitTimeOf(env.Source.TsMs)
	if err != nil {
		return nil, err
	}
	if err := checkSnapshot(env.Source.Snapshot); err != nil {
		return nil, err
	}
	if op == "t" {
		return inventory.Truncate{Table: kind, Pos: pos, Commit: commit}, nil
	}

	before, err := parseRow(env.Before, "before")
	if err != nil {
		return nil, err
	}
	after, err := parseRow(env.After, "after")
	if err != nil {
		return nil, err
	}
	keyRow, err := parseKey(key)
	if err != nil {
		return nil, err
	}
	// The row the change leaves behind, or for a delete the row it removes.
	row, which, deleted := after, "after", false
	if op == "d" {
		row, which, deleted = before, "before", true
	}
	if row == nil {
		return nil, fmt.Errorf("no %s row", which)
	}

	switch kind {
	case inventory.TableStock:
		c, err := stockChangeOf(row, which, deleted)
		if err != nil {
			return nil, err
		}
		if err := checkStockKey(keyRow, "key", c); err != nil {
			return nil, err
		}
		if op == "u" {
			// Debezium and the relay turn a primary-key change into a delete
			// and a create. An update whose before image has another key
			// would otherwise leave the old row behind, unseen.
			if err := checkStockKey(before, "before", c); err != nil {
				return nil, err
			}
		}
		c.Pos, c.Commit = pos, commit
		return c, nil
	default:
		c, err := warehouseChangeOf(row, which, deleted)
		if err != nil {
			return nil, err
		}
		if err := checkColumn(keyRow, "key", "id", int64(c.Warehouse.ID)); err != nil {
			return nil, err
		}
		if op == "u" {
			if err := checkColumn(before, "before", "id", int64(c.Warehouse.ID)); err != nil {
				return nil, err
			}
		}
		c.Pos, c.Commit = pos, commit
		return c, nil
	}
}

// stockChangeOf reads a stock row. A delete carries only the row's key (and
// Qty 0): the quantity it had does not matter, and a minimal before image
// has none.
func stockChangeOf(row columns, which string, deleted bool) (inventory.StockChange, error) {
	product, err := intColumn(row, which, "product_id", 1, math.MaxInt64)
	if err != nil {
		return inventory.StockChange{}, err
	}
	warehouse, err := intColumn(row, which, "warehouse_id", 1, math.MaxInt32)
	if err != nil {
		return inventory.StockChange{}, err
	}
	c := inventory.StockChange{
		Product:   inventory.ProductID(product),
		Warehouse: inventory.WarehouseID(warehouse),
		Deleted:   deleted,
	}
	if !deleted {
		qty, err := intColumn(row, which, "qty_salable", math.MinInt32, math.MaxInt32)
		if err != nil {
			return inventory.StockChange{}, err
		}
		c.Qty = int32(qty)
	}
	return c, nil
}

// warehouseChangeOf reads a warehouse row. As for stock, a delete carries
// only the row's key.
func warehouseChangeOf(row columns, which string, deleted bool) (inventory.WarehouseChange, error) {
	id, err := intColumn(row, which, "id", 1, math.MaxInt32)
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
	if isNull(raw) || json.Unmarshal(raw, &c.Warehouse.Code) != nil {
		return inventory.WarehouseChange{}, fmt.Errorf("%s.code: %s is not a string", which, shortJSON(raw))
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
		n, err := jsonInt(raw, which+".is_active", math.MinInt64, math.MaxInt64)
		if err != nil {
			return inventory.WarehouseChange{}, fmt.Errorf("%w (want a number or a boolean)", err)
		}
		c.Warehouse.Active = n != 0
	}
	return c, nil
}

// checkStockKey checks that the stock key columns present in row (a
// key or a before image) equal those of c.
func checkStockKey(row columns, which string, c inventory.StockChange) error {
	if err := checkColumn(row, which, "product_id", int64(c.Product)); err != nil {
		return err
	}
	return checkColumn(row, which, "warehouse_id", int64(c.Warehouse))
}

// checkColumn checks that column col of row, if row has it, equals want.
// Keys built from other columns (Debezium's message.key.columns) pass.
func checkColumn(row columns, which, col string, want int64) error {
	if _, ok := row[col]; !ok {
		return nil
	}
	got, err := intColumn(row, which, col, math.MinInt64, math.MaxInt64)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s.%s is %d but the row's is %d", which, col, got, want)
	}
	return nil
}
