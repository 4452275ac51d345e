package app

import (
	"reflect"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

func TestEntryRoundTrip(t *testing.T) {
	dir := inventory.NewDirectory(pos(10), testWarehouses)
	recs := []inventory.Record{
		{Product: 1, Floor: pos(100)},
		inventory.NewRecord(2, pos(100), []inventory.Stock{{Warehouse: 1, Qty: -5}, {Warehouse: 2, Qty: 1 << 30}, {Warehouse: 3, Qty: 0}}),
		{Product: 3, Floor: pos(100), Rows: []inventory.Row{
			{Warehouse: 1, Qty: 7, Version: pos(100)},
			{Warehouse: 2, Deleted: true, Version: inventory.Position{File: 9, Offset: 1 << 40, Row: 3}},
			{Warehouse: 1 << 30, Qty: 1, Version: pos(200)},
		}},
	}
	for _, rec := range recs {
		e := encodeEntry(&rec, dir, []Renderer{textRenderer{}, textRenderer{}})
		got, err := decodeRecord(rec.Product, e)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Rows) == 0 {
			got.Rows = rec.Rows
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, rec)
		}
		for i := range 2 {
			v, err := viewEntry(e, i)
			if err != nil {
				t.Fatal(err)
			}
			inv, exists := dir.View(&rec)
			if v.exists != exists || v.epoch != dir.Epoch() || exists && string(v.body) != string(textRenderer{}.AppendInventory(nil, &inv)) {
				t.Errorf("view %d of %d: %+v", i, rec.Product, v)
			}
		}
	}
}

// Truncated or garbled entries are reported, never a panic.
func TestEntryCorrupt(t *testing.T) {
	rec := inventory.NewRecord(2, pos(100), []inventory.Stock{{Warehouse: 1, Qty: 5}})
	rec.Apply(inventory.StockChange{Product: 2, Warehouse: 2, Qty: 1, Pos: pos(300)})
	e := encodeEntry(&rec, inventory.NewDirectory(pos(10), testWarehouses), []Renderer{textRenderer{}})
	for n := range len(e) {
		_, _ = decodeRecord(2, e[:n])
		_, _ = viewEntry(e[:n], 0)
	}
	bad := append([]byte(nil), e...)
	bad[0] = 99
	if _, err := viewEntry(bad, 0); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func FuzzEntry(f *testing.F) {
	rec := inventory.NewRecord(2, pos(100), []inventory.Stock{{Warehouse: 1, Qty: 5}})
	f.Add(encodeEntry(&rec, inventory.NewDirectory(pos(10), testWarehouses), []Renderer{textRenderer{}}))
	f.Fuzz(func(t *testing.T, e []byte) {
		_, _ = decodeRecord(1, e)
		_, _ = viewEntry(e, 0)
	})
}
