package inventory

import (
	"cmp"
	"slices"
)

// Inventory is the read model of one product: the salable quantity in each
// active warehouse, sorted by warehouse code. A product that exists but has
// stock only in inactive warehouses has an empty list.
type Inventory struct {
	Product    ProductID
	Warehouses []WarehouseStock
}

// WarehouseStock is the salable quantity of a product in one warehouse.
type WarehouseStock struct {
	Code string
	Qty  int32
}

// View joins a product record with the directory: live rows in active
// warehouses the directory knows, sorted by code. ok is false when the
// product does not exist.
func (d *Directory) View(r *Record) (inv Inventory, ok bool) {
	if !r.Exists() {
		return Inventory{Product: r.Product}, false
	}
	inv = Inventory{Product: r.Product, Warehouses: make([]WarehouseStock, 0, len(r.Rows))}
	for _, row := range r.Rows {
		if row.Deleted {
			continue
		}
		w, found := d.Lookup(row.Warehouse)
		if !found || !w.Active {
			continue
		}
		inv.Warehouses = append(inv.Warehouses, WarehouseStock{Code: w.Code, Qty: row.Qty})
	}
	slices.SortFunc(inv.Warehouses, func(a, b WarehouseStock) int { return cmp.Compare(a.Code, b.Code) })
	return inv, true
}
