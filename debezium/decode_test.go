package debezium_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/debezium"
	"github.com/gintoki/gintoki/inventory"
)

// decodeT0 is source.ts_ms of the fixtures' reference event.
const decodeT0 = 1764250000000

func decodeAt(deltaMs int64) time.Time { return time.UnixMilli(decodeT0 + deltaMs).UTC() }

const (
	decodeStockTopic     = "dbserver1.inventory.warehouse_stock_item"
	decodeWarehouseTopic = "dbserver1.inventory.warehouse"
)

// decodeFixture reads testdata/NAME.key.json and testdata/NAME.value.json;
// a missing file is a null key or value.
func decodeFixture(tb testing.TB, name string) (key, value []byte) {
	tb.Helper()
	read := func(part string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name+"."+part+".json"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	key, value = read("key"), read("value")
	if key == nil && value == nil {
		tb.Fatalf("no fixture %q", name)
	}
	return key, value
}

func TestDecodeFixtures(t *testing.T) {
	stock := func(p int64, w int32, q int32, del bool, pos inventory.Position, ms int64) inventory.StockChange {
		return inventory.StockChange{Product: inventory.ProductID(p), Warehouse: inventory.WarehouseID(w),
			Qty: q, Deleted: del, Pos: pos, Commit: decodeAt(ms)}
	}
	wh := func(id int32, code string, active, del bool, pos inventory.Position, ms int64) inventory.WarehouseChange {
		return inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: inventory.WarehouseID(id), Code: code, Active: active},
			Deleted: del, Pos: pos, Commit: decodeAt(ms)}
	}
	pos := func(file uint32, off uint64, row uint32) inventory.Position {
		return inventory.Position{File: file, Offset: off, Row: row}
	}
	tests := []struct {
		fixture string
		topic   string
		want    inventory.Change
		wantErr error
	}{
		{"stock_create", decodeStockTopic, stock(1004, 3, 42, false, pos(3, 154, 0), 0), nil},
		{"stock_update", decodeStockTopic, stock(1004, 3, 40, false, pos(3, 484, 1), 1000), nil},
		{"stock_delete", decodeStockTopic, stock(1004, 3, 0, true, pos(3, 805, 0), 2000), nil},
		{"stock_tombstone", decodeStockTopic, nil, nil},
		{"stock_snapshot_first", decodeStockTopic, stock(1, 2, 17, false, pos(2, 1526, 0), -60000), nil},
		{"stock_snapshot_last", decodeStockTopic, stock(100000, 8, 0, false, pos(2, 1526, 0), -60000), nil},
		{"stock_snapshot_incremental", decodeStockTopic, stock(77, 1, 5, false, pos(4, 9120, 0), 5000), nil},
		{"stock_update_v1", decodeStockTopic, stock(2, 5, -3, false, pos(3, 1210, 2), 3000), nil},
		{"stock_create_v27", decodeStockTopic,
			stock(9007199254740993, 2147483647, 2147483647, false, pos(12, 4294967296, 0), 4000), nil},
		// A primary-key change is a delete of the old key and a create of
		// the new one, at the same binlog row; each applies on its own.
		{"stock_pk_change_delete", decodeStockTopic, stock(5, 1, 0, true, pos(4, 10020, 0), 6000), nil},
		{"stock_pk_change_create", decodeStockTopic, stock(5, 4, 9, false, pos(4, 10020, 0), 6000), nil},
		{"stock_truncate", decodeStockTopic,
			inventory.Truncate{Table: inventory.TableStock, Pos: pos(4, 12000, 0), Commit: decodeAt(7000)}, nil},
		{"warehouse_create", decodeWarehouseTopic, wh(9, "WH-LIS", true, false, pos(4, 13000, 0), 8000), nil},
		{"warehouse_update_bool", decodeWarehouseTopic, wh(9, "WH-LIS", false, false, pos(4, 13500, 0), 9000), nil},
		{"warehouse_update_active_2", decodeWarehouseTopic, wh(9, "WH-LIS", true, false, pos(4, 15000, 0), 14000), nil},
		{"warehouse_delete", decodeWarehouseTopic, wh(9, "", false, true, pos(4, 14000, 0), 10000), nil},
		{"warehouse_tombstone", decodeWarehouseTopic, nil, nil},
		{"warehouse_snapshot_v1", decodeWarehouseTopic, wh(1, "WH-AMS", true, false, pos(2, 1526, 0), -60000), nil},
		{"warehouse_truncate", decodeWarehouseTopic,
			inventory.Truncate{Table: inventory.TableWarehouse, Pos: pos(5, 4, 0), Commit: decodeAt(11000)}, nil},
		{"relay_stock_update", "gintoki.inventory.warehouse_stock_item", stock(42, 6, 99, false, pos(5, 2048, 3), 12000), nil},
		{"relay_warehouse_create", "gintoki.inventory.warehouse", wh(10, "WH-OSL", false, false, pos(5, 4096, 0), 13000), nil},
		{"other_table_create", "dbserver1.inventory.customers", nil, debezium.ErrUnknownTable},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			key, value := decodeFixture(t, tt.fixture)
			got, err := debezium.Decoder{}.Decode(tt.topic, key, value)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Decode =\n  %#v\nwant\n  %#v", got, tt.want)
			}
		})
	}
}

// decodeEvent returns a bare Debezium event for warehouse_stock_item (or,
// with table "warehouse", for warehouse) after applying edit to it. Paths
// are "field" or "block.field"; a nil value removes the field, a
// json.RawMessage is written as is.
func decodeEvent(tb testing.TB, table string, edits map[string]any) []byte {
	tb.Helper()
	row := map[string]any{"product_id": 1, "warehouse_id": 2, "qty_salable": 3}
	if table == "warehouse" {
		row = map[string]any{"id": 4, "code": "WH-AMS", "is_active": 1}
	}
	ev := map[string]any{
		"before": nil,
		"after":  row,
		"source": map[string]any{
			"version": "2.4.2.Final", "connector": "mysql", "name": "dbserver1", "ts_ms": decodeT0,
			"snapshot": "false", "db": "inventory", "sequence": nil, "table": table, "server_id": 223344,
			"gtid": nil, "file": "mysql-bin.000007", "pos": 4711, "row": 0, "thread": 7, "query": nil,
		},
		"op": "c", "ts_ms": decodeT0 + 1, "transaction": nil,
	}
	for path, v := range edits {
		m, field := ev, path
		if block, f, ok := strings.Cut(path, "."); ok {
			if m[block] == nil {
				m[block] = map[string]any{}
			}
			m, field = m[block].(map[string]any), f
		}
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeEvents(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	null := raw("null")
	stockPos := inventory.Position{File: 7, Offset: 4711}
	okStock := inventory.StockChange{Product: 1, Warehouse: 2, Qty: 3, Pos: stockPos, Commit: decodeAt(0)}
	okWarehouse := inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 4, Code: "WH-AMS", Active: true},
		Pos: stockPos, Commit: decodeAt(0)}
	stockKey := `{"product_id":1,"warehouse_id":2}`

	tests := []struct {
		name    string
		decoder debezium.Decoder
		topic   string // decodeStockTopic if empty
		key     string
		value   []byte
		want    inventory.Change
		wantErr error
		wantMsg string // in the error message
	}{
		// Tombstones and valid variations.
		{name: "nil value", key: stockKey},
		{name: "empty value", key: stockKey, value: []byte{}},
		{name: "null value", value: []byte(" null\n")},
		{name: "wrapped null payload", value: []byte(`{"schema":null,"payload":null}`)},
		{name: "plain", key: stockKey, value: decodeEvent(t, "warehouse_stock_item", nil), want: okStock},
		{name: "wrapped key", key: `{"schema":{"type":"struct"},"payload":` + stockKey + `}`,
			value: decodeEvent(t, "warehouse_stock_item", nil), want: okStock},
		{name: "null key", key: "null", value: decodeEvent(t, "warehouse_stock_item", nil), want: okStock},
		{name: "key of other columns", key: `{"sku":"X-1"}`, value: decodeEvent(t, "warehouse_stock_item", nil), want: okStock},
		{name: "table from topic when source.table is null",
			value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.table": null}), want: okStock},
		{name: "no ts_ms is zero time",
			value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.ts_ms": null}),
			want:  inventory.StockChange{Product: 1, Warehouse: 2, Qty: 3, Pos: stockPos}},
		{name: "snapshot boolean", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "r", "source.snapshot": true}), want: okStock},
		{name: "snapshot unknown string", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "r", "source.snapshot": "last_in_data_collection"}), want: okStock},
		{name: "extra columns and fields", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"after.updated_at": "2025-11-27T10:00:00Z", "source.ts_us": 1, "extra": []int{1}}), want: okStock},
		{name: "update", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"op": "u", "before": map[string]any{"product_id": 1, "warehouse_id": 2, "qty_salable": 7}}), want: okStock},
		{name: "delete with minimal before image", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"op": "d", "after": null, "before": map[string]any{"product_id": 1, "warehouse_id": 2}}),
			want: inventory.StockChange{Product: 1, Warehouse: 2, Deleted: true, Pos: stockPos, Commit: decodeAt(0)}},
		{name: "truncate ignores the key", key: "garbage", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"op": "t", "after": nil, "before": nil}),
			want: inventory.Truncate{Table: inventory.TableStock, Pos: stockPos, Commit: decodeAt(0)}},
		{name: "warehouse", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", nil), want: okWarehouse},
		{name: "warehouse inactive boolean", topic: decodeWarehouseTopic,
			value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": false}),
			want:  inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 4, Code: "WH-AMS"}, Pos: stockPos, Commit: decodeAt(0)}},
		// MySQL and Debezium take any non-zero TINYINT(1) as true; Debezium
		// writes it as a number, or as a boolean with a converter or BIT(1).
		{name: "warehouse is_active 2", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": 2}), want: okWarehouse},
		{name: "warehouse is_active -1", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": -1}), want: okWarehouse},
		{name: "warehouse is_active 127", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": 127}), want: okWarehouse},
		{name: "warehouse is_active true", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": true}), want: okWarehouse},
		{name: "warehouse is_active 0", topic: decodeWarehouseTopic,
			value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": 0}),
			want:  inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 4, Code: "WH-AMS"}, Pos: stockPos, Commit: decodeAt(0)}},
		{name: "custom table names", decoder: debezium.Decoder{StockTable: "stock", WarehouseTable: "wh"},
			value: decodeEvent(t, "stock", nil), want: okStock},
		{name: "custom table names refuse the defaults", decoder: debezium.Decoder{StockTable: "stock"},
			value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrUnknownTable},

		// Unknown tables.
		{name: "unknown source.table", value: decodeEvent(t, "customers", nil), wantErr: debezium.ErrUnknownTable, wantMsg: `"customers"`},
		{name: "unknown topic without table", topic: "dbserver1.inventory.orders",
			value: decodeEvent(t, "x", map[string]any{"source.table": ""}), wantErr: debezium.ErrUnknownTable, wantMsg: `"orders"`},

		// Malformed envelopes.
		{name: "bad json", value: []byte(`{"op":`), wantErr: debezium.ErrMalformed},
		{name: "array", value: []byte(`[1,2]`), wantErr: debezium.ErrMalformed},
		{name: "string", value: []byte(`"c"`), wantErr: debezium.ErrMalformed},
		{name: "empty object", value: []byte(`{}`), wantErr: debezium.ErrMalformed, wantMsg: "no op"},
		{name: "wrapped empty payload", value: []byte(`{"schema":{},"payload":{}}`), wantErr: debezium.ErrMalformed, wantMsg: "no op"},
		{name: "payload not an object", value: []byte(`{"schema":{},"payload":7}`), wantErr: debezium.ErrMalformed},
		{name: "unknown op", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "m"}), wantErr: debezium.ErrMalformed, wantMsg: `unknown op "m"`},
		{name: "op not a string", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": 1}), wantErr: debezium.ErrMalformed},
		{name: "no source", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source": null}), wantErr: debezium.ErrMalformed, wantMsg: "no source"},
		{name: "source not an object", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source": "x"}), wantErr: debezium.ErrMalformed},
		{name: "no file", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.file": nil}), wantErr: debezium.ErrMalformed, wantMsg: "source.file"},
		{name: "empty file", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.file": ""}), wantErr: debezium.ErrMalformed, wantMsg: "source.file"},
		{name: "file without sequence", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.file": "mysql-bin"}), wantErr: debezium.ErrMalformed, wantMsg: "source.file"},
		{name: "file not a string", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.file": 3}), wantErr: debezium.ErrMalformed},
		{name: "no pos", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.pos": nil}), wantErr: debezium.ErrMalformed, wantMsg: "source.pos"},
		{name: "negative pos", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.pos": -1}), wantErr: debezium.ErrMalformed, wantMsg: "source.pos"},
		{name: "string pos", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.pos": "4711"}), wantErr: debezium.ErrMalformed, wantMsg: "source.pos"},
		{name: "fraction pos", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.pos": raw("4.5")}), wantErr: debezium.ErrMalformed, wantMsg: "source.pos"},
		{name: "no row", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.row": null}), wantErr: debezium.ErrMalformed, wantMsg: "source.row"},
		{name: "row beyond uint32", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.row": raw("4294967296")}), wantErr: debezium.ErrMalformed, wantMsg: "source.row"},
		{name: "negative ts_ms", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.ts_ms": -5}), wantErr: debezium.ErrMalformed, wantMsg: "source.ts_ms"},
		{name: "string ts_ms", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.ts_ms": "now"}), wantErr: debezium.ErrMalformed, wantMsg: "source.ts_ms"},
		{name: "numeric snapshot", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.snapshot": 1}), wantErr: debezium.ErrMalformed, wantMsg: "source.snapshot"},
		{name: "table not a string", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"source.table": 5}), wantErr: debezium.ErrMalformed},

		// Malformed rows.
		{name: "create without after", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after": null}), wantErr: debezium.ErrMalformed, wantMsg: "no after row"},
		{name: "update without after", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "u", "after": nil}), wantErr: debezium.ErrMalformed, wantMsg: "no after row"},
		{name: "delete without before", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"op": "d"}), wantErr: debezium.ErrMalformed, wantMsg: "no before row"},
		{name: "after not an object", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after": []int{1}}), wantErr: debezium.ErrMalformed, wantMsg: "after"},
		{name: "missing product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": nil}), wantErr: debezium.ErrMalformed, wantMsg: "after.product_id missing"},
		{name: "null product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": null}), wantErr: debezium.ErrMalformed, wantMsg: "after.product_id"},
		{name: "zero product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": 0}), wantErr: debezium.ErrMalformed, wantMsg: "after.product_id: 0 is out of range"},
		{name: "negative product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": -5}), wantErr: debezium.ErrMalformed, wantMsg: "after.product_id"},
		{name: "string product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": "1"}), wantErr: debezium.ErrMalformed, wantMsg: "not an integer"},
		{name: "float product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": raw("1.0")}), wantErr: debezium.ErrMalformed, wantMsg: "not an integer"},
		{name: "exponent product_id", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": raw("1e3")}), wantErr: debezium.ErrMalformed, wantMsg: "not an integer"},
		{name: "product_id beyond int64", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.product_id": raw("9223372036854775808")}), wantErr: debezium.ErrMalformed, wantMsg: "out of range"},
		{name: "warehouse_id beyond int32", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.warehouse_id": raw("2147483648")}), wantErr: debezium.ErrMalformed, wantMsg: "after.warehouse_id"},
		{name: "qty beyond int32", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.qty_salable": raw("2147483648")}), wantErr: debezium.ErrMalformed, wantMsg: "after.qty_salable"},
		{name: "qty below int32", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.qty_salable": raw("-2147483649")}), wantErr: debezium.ErrMalformed, wantMsg: "after.qty_salable"},
		{name: "missing qty", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.qty_salable": nil}), wantErr: debezium.ErrMalformed, wantMsg: "after.qty_salable missing"},
		{name: "null qty", value: decodeEvent(t, "warehouse_stock_item", map[string]any{"after.qty_salable": null}), wantErr: debezium.ErrMalformed, wantMsg: "after.qty_salable"},
		{name: "delete without key column", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"op": "d", "after": null, "before": map[string]any{"product_id": 1}}), wantErr: debezium.ErrMalformed, wantMsg: "before.warehouse_id missing"},
		{name: "update changing the key", value: decodeEvent(t, "warehouse_stock_item", map[string]any{
			"op": "u", "before": map[string]any{"product_id": 1, "warehouse_id": 9, "qty_salable": 3}}), wantErr: debezium.ErrMalformed, wantMsg: "before.warehouse_id is 9"},
		{name: "key contradicts row", key: `{"product_id":1,"warehouse_id":5}`,
			value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrMalformed, wantMsg: "key.warehouse_id is 5"},
		{name: "wrapped key contradicts row", key: `{"schema":{},"payload":{"product_id":8,"warehouse_id":2}}`,
			value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrMalformed, wantMsg: "key.product_id is 8"},
		{name: "bad key json", key: `{"product_id":`, value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrMalformed, wantMsg: "key"},
		{name: "key not an object", key: `[1]`, value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrMalformed, wantMsg: "key"},
		{name: "ill-typed key column", key: `{"product_id":"1"}`, value: decodeEvent(t, "warehouse_stock_item", nil), wantErr: debezium.ErrMalformed, wantMsg: "key.product_id"},
		{name: "warehouse id zero", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.id": 0}), wantErr: debezium.ErrMalformed, wantMsg: "after.id"},
		{name: "warehouse code missing", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.code": nil}), wantErr: debezium.ErrMalformed, wantMsg: "after.code missing"},
		{name: "warehouse code not a string", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.code": 5}), wantErr: debezium.ErrMalformed, wantMsg: "after.code"},
		{name: "warehouse code null", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.code": null}), wantErr: debezium.ErrMalformed, wantMsg: "after.code"},
		{name: "warehouse is_active string", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": "1"}), wantErr: debezium.ErrMalformed, wantMsg: "after.is_active"},
		{name: "warehouse is_active fraction", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": raw("0.5")}), wantErr: debezium.ErrMalformed, wantMsg: "after.is_active"},
		{name: "warehouse is_active null", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": null}), wantErr: debezium.ErrMalformed, wantMsg: "after.is_active"},
		{name: "warehouse is_active missing", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{"after.is_active": nil}), wantErr: debezium.ErrMalformed, wantMsg: "after.is_active missing"},
		{name: "warehouse key contradicts row", topic: decodeWarehouseTopic, key: `{"id":5}`, value: decodeEvent(t, "warehouse", nil), wantErr: debezium.ErrMalformed, wantMsg: "key.id is 5"},
		{name: "warehouse update changing the key", topic: decodeWarehouseTopic, value: decodeEvent(t, "warehouse", map[string]any{
			"op": "u", "before": map[string]any{"id": 3, "code": "WH-AMS", "is_active": 1}}), wantErr: debezium.ErrMalformed, wantMsg: "before.id is 3"},
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
			got, err := tt.decoder.Decode(topic, key, tt.value)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Decode error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("Decode =\n  %#v\nwant\n  %#v", got, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Decode returned %#v with its error", got)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if tt.wantErr == debezium.ErrMalformed && errors.Is(err, debezium.ErrUnknownTable) ||
				tt.wantErr == debezium.ErrUnknownTable && errors.Is(err, debezium.ErrMalformed) {
				t.Errorf("error %q wraps both sentinels", err)
			}
		})
	}
}

// FuzzDecode checks that Decode never panics, that every error it returns
// is classified by one of the sentinels, and that every change it returns
// is valid for the domain.
func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name, _, ok := strings.Cut(e.Name(), ".")
		if !ok || seen[name] || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		seen[name] = true
		key, value := decodeFixture(f, name)
		topic := decodeStockTopic
		if strings.HasPrefix(name, "warehouse") || strings.HasPrefix(name, "relay_warehouse") {
			topic = decodeWarehouseTopic
		}
		f.Add(topic, key, value)
	}
	f.Add(decodeStockTopic, []byte(nil), []byte(`{"op":"u","source":{"file":"b.1","pos":1,"row":0},"after":{"product_id":1,"warehouse_id":1,"qty_salable":1}}`))
	f.Add("x.warehouse", []byte(`{"id":1}`), []byte(`{"schema":{},"payload":{"op":"d","source":{"file":"b.1","pos":1,"row":0},"before":{"id":1}}}`))

	f.Fuzz(func(t *testing.T, topic string, key, value []byte) {
		c, err := debezium.Decoder{}.Decode(topic, key, value)
		if err != nil {
			if !errors.Is(err, debezium.ErrMalformed) && !errors.Is(err, debezium.ErrUnknownTable) {
				t.Fatalf("unclassified error: %v", err)
			}
			if c != nil {
				t.Fatalf("change %#v returned with error %v", c, err)
			}
			return
		}
		switch c := c.(type) {
		case nil: // tombstone
		case inventory.StockChange:
			if c.Product.Validate() != nil || c.Warehouse <= 0 {
				t.Fatalf("invalid stock change %#v", c)
			}
			if c.Deleted && c.Qty != 0 {
				t.Fatalf("delete with quantity: %#v", c)
			}
		case inventory.WarehouseChange:
			if c.Warehouse.ID <= 0 {
				t.Fatalf("invalid warehouse change %#v", c)
			}
		case inventory.Truncate:
			if c.Table != inventory.TableStock && c.Table != inventory.TableWarehouse {
				t.Fatalf("truncate of table %d", c.Table)
			}
		default:
			t.Fatalf("unexpected change type %T", c)
		}
	})
}
