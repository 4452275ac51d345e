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
		for i := range BodyFormat(2) {
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

// A fresh fill's entry costs little beyond its bodies: a typical product
// (three rows at the floor, a real binlog position) pays at most 24 bytes,
// half of what the fixed-width layout of format 2 took.
func TestEntryOverhead(t *testing.T) {
	floor := inventory.Position{File: 12, Offset: 123_456_789, Row: 0}
	dir := inventory.NewDirectory(floor, testWarehouses)
	rec := inventory.NewRecord(123_456, floor, []inventory.Stock{{Warehouse: 1, Qty: 17}, {Warehouse: 2, Qty: 250}, {Warehouse: 3, Qty: 0}})
	renderers := []Renderer{textRenderer{}, textRenderer{}}
	e := encodeEntry(&rec, dir, renderers)
	inv, _ := dir.View(&rec)
	bodies := 2 * len(textRenderer{}.AppendInventory(nil, &inv))
	if over := len(e) - bodies; over > 24 {
		t.Errorf("entry of %d bytes for %d bytes of bodies: %d bytes of overhead, want ≤ 24", len(e), bodies, over)
	}
}

// Entries whose parts disagree are refused.
func TestEntryInconsistent(t *testing.T) {
	dir := inventory.NewDirectory(pos(10), testWarehouses)
	rec := inventory.NewRecord(2, pos(100), []inventory.Stock{{Warehouse: 1, Qty: 5}})
	e := encodeEntry(&rec, dir, []Renderer{textRenderer{}})
	for name, bad := range map[string][]byte{
		"negative flag with bodies": append([]byte{e[0], 0}, e[2:]...),
		"trailing bytes":            append(append([]byte(nil), e...), 0),
		"truncated":                 e[:len(e)-1],
	} {
		if _, err := decodeRecord(2, bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	if _, err := decodeRecord(2, e); err != nil {
		t.Fatal(err)
	}
}
