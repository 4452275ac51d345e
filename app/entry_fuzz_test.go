package app

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// FuzzEntry feeds the cache entry decoders (the hit path's viewEntry and
// the change path's decodeRecord) arbitrary bytes. They never panic, a body
// they return lies within the entry, and a record they decode re-encodes
// to an entry that decodes to the same record.
func FuzzEntry(f *testing.F) {
	dir := inventory.NewDirectory(pos(10), testWarehouses)
	renderers := []Renderer{textRenderer{}, textRenderer{}}
	neg := inventory.Record{Product: 1, Floor: pos(100)}
	rec := inventory.NewRecord(2, pos(100), []inventory.Stock{{Warehouse: 1, Qty: -5}, {Warehouse: 2, Qty: 1 << 30}})
	rec.Apply(inventory.StockChange{Product: 2, Warehouse: 3, Qty: 1, Pos: pos(300)})
	rec.Apply(inventory.StockChange{Product: 2, Warehouse: 1, Deleted: true, Pos: pos(400)})
	for _, r := range []inventory.Record{neg, rec} {
		e := encodeEntry(&r, dir, renderers)
		f.Add(e)
		f.Add(e[:len(e)/2])
	}
	f.Add([]byte{entryFormat, flagExists, 0, 1, 0x80})
	f.Add([]byte{entryFormat, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}) // a huge row count

	f.Fuzz(func(t *testing.T, e []byte) {
		for i := range BodyFormat(3) {
			v, err := viewEntry(e, i)
			if err != nil || v.body == nil {
				continue
			}
			if len(v.body) > len(e) || !bytes.Contains(e, v.body) {
				t.Fatalf("viewEntry(%x, %d) returned a body not within the entry: %x", e, i, v.body)
			}
		}
		got, err := decodeRecord(7, e)
		if err != nil {
			return
		}
		again, err := decodeRecord(7, encodeEntry(&got, dir, renderers))
		if err != nil {
			t.Fatalf("a decoded record re-encodes to an entry that does not decode: %v\nrecord %+v", err, got)
		}
		if len(got.Rows) == 0 && len(again.Rows) == 0 {
			got.Rows, again.Rows = nil, nil
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("re-encoded record decodes differently:\n got %+v\nwant %+v", again, got)
		}
	})
}
