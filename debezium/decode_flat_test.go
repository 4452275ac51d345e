package debezium_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/inventory"
)

// Events flattened by ExtractNewRecordState decode to the same changes as
// the envelopes they came from, when add.fields carries the op and the
// position and deletes are rewritten; without those settings they are
// refused with an error that names them.
func TestDecodeFlattened(t *testing.T) {
	pos := func(file uint32, off uint64, row uint32) inventory.Position {
		return inventory.Position{File: file, Offset: off, Row: row}
	}
	tests := []struct {
		fixture string
		topic   string
		want    inventory.Change
		wantMsg string
	}{
		{"flat_stock_update", decodeStockTopic, inventory.StockChange{Product: 1004, Warehouse: 3, Qty: 40, Pos: pos(3, 484, 1), Commit: decodeAt(1000)}, ""},
		{"flat_stock_delete", decodeStockTopic, inventory.StockChange{Product: 1004, Warehouse: 3, Deleted: true, Pos: pos(3, 805, 0), Commit: decodeAt(2000)}, ""},
		{"flat_stock_create_schema", decodeStockTopic, inventory.StockChange{Product: 1004, Warehouse: 3, Qty: 42, Pos: pos(3, 154, 0), Commit: decodeAt(0)}, ""},
		{"flat_warehouse_update", decodeWarehouseTopic, inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 9, Code: "WH-LIS", Active: true}, Pos: pos(4, 15000, 0), Commit: decodeAt(14000)}, ""},
		{"flat_stock_no_fields", decodeStockTopic, nil, "transforms.unwrap.add.fields=op,table,file,pos,row,source.ts_ms"},
		{"flat_stock_no_position", decodeStockTopic, nil, "without its source position (__file, __pos, __row): the change cannot be ordered; set transforms.unwrap.add.fields="},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			key, value := decodeFixture(t, tt.fixture)
			got, err := debezium.Decoder{}.Decode(tt.topic, key, value)
			if tt.wantMsg != "" {
				if !errors.Is(err, debezium.ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Decode error = %v, want ErrMalformed saying %q", err, tt.wantMsg)
				}
				if !strings.Contains(err.Error(), "delete.tombstone.handling.mode=rewrite") {
					t.Errorf("error %v does not name the delete setting", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode =\n  %#v\nwant\n  %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeFlattenedErrors(t *testing.T) {
	tests := []struct {
		name, value, wantMsg string
	}{
		{"op not a string", `{"product_id":1,"warehouse_id":2,"qty_salable":3,"__op":1,"__file":"mysql-bin.000001","__pos":4,"__row":0}`, "__op"},
		{"file not a string", `{"product_id":1,"warehouse_id":2,"qty_salable":3,"__op":"c","__file":5,"__pos":4,"__row":0}`, "__file"},
		{"deleted not a boolean", `{"product_id":1,"warehouse_id":2,"qty_salable":3,"__op":"d","__file":"mysql-bin.000001","__pos":4,"__row":0,"__deleted":"maybe"}`, "__deleted"},
		{"deleted but not a delete", `{"product_id":1,"warehouse_id":2,"qty_salable":3,"__op":"u","__file":"mysql-bin.000001","__pos":4,"__row":0,"__deleted":"true"}`, "__deleted is true"},
		{"bad position", `{"product_id":1,"warehouse_id":2,"qty_salable":3,"__op":"u","__file":"mysql-bin.000001","__pos":-4,"__row":0}`, "source.pos"},
		{"bad row", `{"product_id":1,"warehouse_id":2,"qty_salable":"x","__op":"u","__file":"mysql-bin.000001","__pos":4,"__row":0}`, "after.qty_salable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := debezium.Decoder{}.Decode(decodeStockTopic, nil, []byte(tt.value))
			if !errors.Is(err, debezium.ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Decode error = %v, want ErrMalformed saying %q", err, tt.wantMsg)
			}
		})
	}
}

// A stock record that cannot be applied says which product it could have
// changed, when its key and rows name exactly one; other records do not
// claim one. A warehouse record says so, for the directory to be reloaded.
func TestDecodeUnapplicable(t *testing.T) {
	bad := map[string]any{"after.qty_salable": "many"}
	tests := []struct {
		name      string
		topic     string
		key       string
		value     []byte
		wantUE    bool // an *app.UnapplicableError
		wantWh    bool // ... of the warehouse table
		wantKnown bool
		wantID    inventory.ProductID
	}{
		{name: "bad column, key names the product", key: `{"product_id":1,"warehouse_id":2}`, value: decodeEvent(t, "warehouse_stock_item", bad), wantUE: true, wantKnown: true, wantID: 1},
		{name: "bad column, no key: the row names it", value: decodeEvent(t, "warehouse_stock_item", bad), wantUE: true, wantKnown: true, wantID: 1},
		{name: "wrapped key", key: `{"schema":{},"payload":{"product_id":7,"warehouse_id":2}}`,
			value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": 7, "source.pos": "x"}), wantUE: true, wantKnown: true, wantID: 7},
		{name: "value not JSON, key names the product", key: `{"product_id":5,"warehouse_id":2}`, value: []byte(`{"op":`), wantUE: true, wantKnown: true, wantID: 5},
		{name: "value not JSON, no key", value: []byte(`{"op":`), wantUE: true},
		{name: "key contradicts row", key: `{"product_id":8,"warehouse_id":2}`, value: decodeEvent(t, "warehouse_stock_item", nil), wantUE: true},
		{name: "product id missing", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": nil}), wantUE: true},
		{name: "product id out of range", key: `{"product_id":0,"warehouse_id":2}`, value: decodeEvent(t, "warehouse_stock_item", bad), wantUE: true},
		{name: "key not JSON", key: `{`, value: decodeEvent(t, "warehouse_stock_item", bad), wantUE: true},
		{name: "truncate without position", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "t", "after": nil, "source.file": nil}), wantUE: true},
		{name: "flattened without op, key names the product", key: `{"product_id":3,"warehouse_id":2}`, value: []byte(`{"product_id":3,"warehouse_id":2,"qty_salable":1}`), wantUE: true, wantKnown: true, wantID: 3},
		{name: "warehouse record", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.code": 5}), wantUE: true, wantWh: true},
		{name: "unknown table", value: decodeEvent(t, "customers", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := tt.topic
			if topic == "" {
				topic = decodeStockTopic
			}
			var key []byte
			if tt.key != "" {
				key = []byte(tt.key)
			}
			_, err := debezium.Decoder{}.Decode(topic, key, tt.value)
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			var ue *app.UnapplicableError
			if got := errors.As(err, &ue); got != tt.wantUE {
				t.Fatalf("Decode error %v: UnapplicableError %v, want %v", err, got, tt.wantUE)
			}
			if ue != nil && (ue.KeyKnown != tt.wantKnown || ue.Product != tt.wantID || ue.Warehouse != tt.wantWh) {
				t.Fatalf("UnapplicableError{Product: %d, KeyKnown: %v, Warehouse: %v}, want {%d, %v, %v} (%v)",
					ue.Product, ue.KeyKnown, ue.Warehouse, tt.wantID, tt.wantKnown, tt.wantWh, err)
			}
			if ue != nil && !errors.Is(err, debezium.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}
