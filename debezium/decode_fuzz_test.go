package debezium

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
	"github.com/gintoki/gintoki/relay"
)

// fuzzTopics are the topics a fuzzed record may come from, chosen by a
// byte of the input.
var fuzzTopics = []string{
	"gintoki.inventory.warehouse_stock_item",
	"gintoki.inventory.warehouse",
	"gintoki.inventory.other",
	HeartbeatTopic("gintoki"),
	"nodots",
}

// FuzzDecodeReencode feeds the decoder records: the testdata fixtures
// (with and without schemas, deletes, tombstones, truncates) and
// heartbeats first. Beyond FuzzDecode's checks (decode_test.go), it checks
// that no change disagrees with a key column its record's key names, and
// that a change re-encoded by the relay's encoder decodes to the same
// change.
func FuzzDecodeReencode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.value.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		value, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		key, _ := os.ReadFile(strings.TrimSuffix(name, ".value.json") + ".key.json") // truncates have none
		topic := uint8(0)
		if strings.Contains(name, "warehouse_") {
			topic = 1
		}
		f.Add(topic, key, value)
	}
	for _, name := range []string{"stock_tombstone", "warehouse_tombstone"} {
		key, err := os.ReadFile(filepath.Join("testdata", name+".key.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(0), key, []byte(nil))
		f.Add(uint8(1), key, []byte("null"))
	}
	f.Add(uint8(3), []byte(`{"serverName":"gintoki"}`), []byte(`{"ts_ms":1764250012000}`))
	f.Add(uint8(3), []byte(`{"schema":{"type":"struct"},"payload":{"serverName":"gintoki"}}`), []byte(`{"schema":{"type":"struct"},"payload":{"ts_ms":1764250012000}}`))
	f.Add(uint8(3), []byte(nil), []byte(`{"ts_ms":0}`))

	var d Decoder
	f.Fuzz(func(t *testing.T, topicSel uint8, key, value []byte) {
		topic := fuzzTopics[int(topicSel)%len(fuzzTopics)]
		c, err := d.Decode(topic, key, value)
		if err != nil {
			if !errorsIsOneOf(err) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrUnknownTable: %v", err)
			}
			if c != nil {
				t.Fatalf("a change (%#v) with an error", c)
			}
			return
		}
		if err := agreesWithKey(c, key); err != nil {
			t.Fatalf("decoded %#v from key %q: %v", c, key, err)
		}
		roundTrip(t, d, c)
	})
}

func errorsIsOneOf(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnknownTable)
}

// agreesWithKey checks, independently of the decoder, that every key
// column the record's key holds (bare, or in a schema wrapper) equals the
// change's.
func agreesWithKey(c inventory.Change, key []byte) error {
	var want map[string]int64
	switch c := c.(type) {
	case inventory.StockChange:
		want = map[string]int64{"product_id": int64(c.Product), "warehouse_id": int64(c.Warehouse)}
	case inventory.WarehouseChange:
		want = map[string]int64{"id": int64(c.Warehouse.ID)}
	default:
		return nil
	}
	if len(key) == 0 {
		return nil
	}
	var row map[string]json.RawMessage
	if err := json.Unmarshal(key, &row); err != nil {
		return fmt.Errorf("accepted a key that is not a JSON object: %v", err)
	}
	if p, ok := row["payload"]; ok && len(row) == 2 && row["schema"] != nil {
		row = nil
		if err := json.Unmarshal(p, &row); err != nil {
			return fmt.Errorf("accepted a key payload that is not a JSON object: %v", err)
		}
	}
	for col, v := range want {
		raw, ok := row[col]
		if !ok {
			continue
		}
		got, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || got != v {
			return fmt.Errorf("key %s is %s, the change's %d", col, raw, v)
		}
	}
	return nil
}

// roundTrip re-encodes c with the relay's encoder and checks that its
// first record decodes to c.
func roundTrip(t *testing.T, d Decoder, c inventory.Change) {
	t.Helper()
	var rc relay.RowChange
	var pos inventory.Position
	var commit time.Time
	switch c := c.(type) {
	case inventory.StockChange:
		row := map[string]any{"product_id": int64(c.Product), "warehouse_id": int32(c.Warehouse), "qty_salable": c.Qty}
		rc = relay.RowChange{Table: defaultStockTable, Key: []string{"product_id", "warehouse_id"},
			Columns: []string{"product_id", "warehouse_id", "qty_salable"}, After: row}
		if c.Deleted {
			rc.Before, rc.After = row, nil
		}
		pos, commit = c.Pos, c.Commit
	case inventory.WarehouseChange:
		active := int8(0)
		if c.Warehouse.Active {
			active = 1
		}
		row := map[string]any{"id": int32(c.Warehouse.ID), "code": c.Warehouse.Code, "is_active": active}
		rc = relay.RowChange{Table: defaultWarehouseTable, Key: []string{"id"}, Columns: []string{"id", "code", "is_active"}, After: row}
		if c.Deleted {
			rc.Before, rc.After = row, nil
		}
		pos, commit = c.Pos, c.Commit
	default:
		return // heartbeats and truncates are not the relay's to encode
	}
	rc.Database, rc.Op = "inventory", relay.OpCreate
	if rc.After == nil {
		rc.Op = relay.OpDelete
	}
	rc.Source = relay.SourceInfo{File: fmt.Sprintf("mysql-bin.%06d", pos.File), Pos: pos.Offset, Row: pos.Row, ServerID: 1, Time: commit}
	if commit.IsZero() {
		rc.Source.Time = time.UnixMilli(0) // ts_ms 0: "unknown", as decoded
	}
	msgs, err := NewEncoder("").Encode(rc)
	if err != nil {
		t.Fatalf("encode %#v: %v", rc, err)
	}
	got, err := d.Decode(msgs[0].Topic, msgs[0].Key, msgs[0].Value)
	if err != nil {
		t.Fatalf("re-encoded %#v as %s / %s, which does not decode: %v", c, msgs[0].Key, msgs[0].Value, err)
	}
	if !sameChange(got, c) {
		t.Fatalf("re-encoded change decodes differently:\n got %#v\nwant %#v\nrecord %s", got, c, msgs[0].Value)
	}
}

func sameChange(a, b inventory.Change) bool {
	switch a := a.(type) {
	case inventory.StockChange:
		b, ok := b.(inventory.StockChange)
		ok = ok && a.Commit.Equal(b.Commit)
		a.Commit, b.Commit = time.Time{}, time.Time{}
		return ok && a == b
	case inventory.WarehouseChange:
		b, ok := b.(inventory.WarehouseChange)
		ok = ok && a.Commit.Equal(b.Commit)
		a.Commit, b.Commit = time.Time{}, time.Time{}
		if a.Deleted { // a delete carries only the key
			a.Warehouse, b.Warehouse = inventory.Warehouse{ID: a.Warehouse.ID}, inventory.Warehouse{ID: b.Warehouse.ID}
		}
		return ok && a == b
	}
	return false
}
