package debezium

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
	"github.com/gintoki/gintoki/relay"
)

func encodeTestEncoder(prefix string, nowMs int64) *Encoder {
	e := NewEncoder(prefix)
	e.now = func() time.Time { return time.UnixMilli(nowMs) }
	return e
}

func encodeStockUpdate() relay.RowChange {
	return relay.RowChange{
		Database: "inventory",
		Table:    "warehouse_stock_item",
		Op:       relay.OpUpdate,
		Key:      []string{"product_id", "warehouse_id"},
		Columns:  []string{"product_id", "warehouse_id", "qty_salable"},
		Before:   map[string]any{"product_id": int64(42), "warehouse_id": int32(6), "qty_salable": int32(100)},
		After:    map[string]any{"product_id": int64(42), "warehouse_id": int32(6), "qty_salable": int32(99)},
		Source: relay.SourceInfo{
			File: "mysql-bin.000005", Pos: 2048, Row: 3, ServerID: 223344,
			Time: time.UnixMilli(1764250012000),
		},
	}
}

// encodeAssertJSON fails unless got is exactly want, byte for byte after
// compacting want (the field order matters to readers of raw records).
func encodeAssertJSON(tb testing.TB, what string, got []byte, want string) {
	tb.Helper()
	var w bytes.Buffer
	if err := json.Compact(&w, []byte(want)); err != nil {
		tb.Fatalf("bad want JSON for %s: %v", what, err)
	}
	if !bytes.Equal(got, w.Bytes()) {
		tb.Errorf("%s:\n got %s\nwant %s", what, got, w.Bytes())
	}
}

// The relay's fixtures in testdata are what the decoder is tested with; the
// encoder must produce exactly them.
func TestEncodeMatchesFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		change  relay.RowChange
		nowMs   int64
	}{
		{"relay_stock_update", encodeStockUpdate(), 1764250012001},
		{"relay_warehouse_create", relay.RowChange{
			Database: "inventory", Table: "warehouse", Op: relay.OpCreate,
			Key:     []string{"id"},
			Columns: []string{"id", "code", "is_active"},
			After:   map[string]any{"id": int32(10), "code": "WH-OSL", "is_active": int8(0)},
			Source: relay.SourceInfo{File: "mysql-bin.000005", Pos: 4096, ServerID: 223344,
				Time: time.UnixMilli(1764250013000)},
		}, 1764250013001},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			msgs, err := encodeTestEncoder("", tc.nowMs).Encode(tc.change)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			if want := "gintoki.inventory." + tc.change.Table; msgs[0].Topic != want {
				t.Errorf("topic %q, want %q", msgs[0].Topic, want)
			}
			for part, got := range map[string][]byte{"key": msgs[0].Key, "value": msgs[0].Value} {
				want, err := os.ReadFile(filepath.Join("testdata", tc.fixture+"."+part+".json"))
				if err != nil {
					t.Fatal(err)
				}
				encodeAssertJSON(t, part, got, string(want))
			}
		})
	}
}

func TestEncode(t *testing.T) {
	create := relay.RowChange{
		Database: "shop", Table: "blobs", Op: relay.OpCreate,
		Key:     []string{"b", "a"},
		Columns: []string{"a", "b", "data", "note"},
		After:   map[string]any{"a": uint64(18446744073709551615), "b": int8(-1), "data": []byte{0, 1, 0xfe}, "note": nil, "extra": "x<&>"},
		Source:  relay.SourceInfo{File: "bin.000002", Pos: 7, Row: 1, GTID: "0-1-9", ServerID: 1, Time: time.UnixMilli(5000)},
	}
	del := create
	del.Op, del.Before, del.After = relay.OpDelete, create.After, nil

	for _, tc := range []struct {
		name      string
		prefix    string
		change    relay.RowChange
		wantTopic string
		wantKey   string
		wantValue string
		tombstone bool
	}{
		{
			name: "create with binary, unsigned, null and unlisted columns", prefix: "cdc", change: create,
			wantTopic: "cdc.shop.blobs",
			wantKey:   `{"b":-1,"a":18446744073709551615}`,
			wantValue: `{"before":null,"after":{"a":18446744073709551615,"b":-1,"data":"AAH+","note":null,"extra":"x<&>"},
				"source":{"version":"gintoki","connector":"mysql","name":"cdc","ts_ms":5000,"snapshot":"false","db":"shop",
				"sequence":null,"table":"blobs","server_id":1,"gtid":"0-1-9","file":"bin.000002","pos":7,"row":1,
				"thread":null,"query":null},"op":"c","ts_ms":123,"transaction":null}`,
		},
		{
			name: "delete then tombstone", prefix: "cdc", change: del,
			wantTopic: "cdc.shop.blobs",
			wantKey:   `{"b":-1,"a":18446744073709551615}`,
			wantValue: `{"before":{"a":18446744073709551615,"b":-1,"data":"AAH+","note":null,"extra":"x<&>"},"after":null,
				"source":{"version":"gintoki","connector":"mysql","name":"cdc","ts_ms":5000,"snapshot":"false","db":"shop",
				"sequence":null,"table":"blobs","server_id":1,"gtid":"0-1-9","file":"bin.000002","pos":7,"row":1,
				"thread":null,"query":null},"op":"d","ts_ms":123,"transaction":null}`,
			tombstone: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := encodeTestEncoder(tc.prefix, 123).Encode(tc.change)
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if tc.tombstone {
				want = 2
			}
			if len(msgs) != want {
				t.Fatalf("got %d messages, want %d", len(msgs), want)
			}
			for _, m := range msgs {
				if m.Topic != tc.wantTopic {
					t.Errorf("topic %q, want %q", m.Topic, tc.wantTopic)
				}
				encodeAssertJSON(t, "key", m.Key, tc.wantKey)
			}
			encodeAssertJSON(t, "value", msgs[0].Value, tc.wantValue)
			if tc.tombstone && msgs[1].Value != nil {
				t.Errorf("tombstone value %q, want nil", msgs[1].Value)
			}
		})
	}
}

func TestEncodeNoPrimaryKeyHasNullKey(t *testing.T) {
	c := encodeStockUpdate()
	c.Key = nil
	msgs, err := NewEncoder("").Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if msgs[0].Key != nil {
		t.Fatalf("key %s, want none", msgs[0].Key)
	}
}

func TestEncodeRejectsInconsistentChanges(t *testing.T) {
	ok := encodeStockUpdate()
	for name, mutate := range map[string]func(*relay.RowChange){
		"unknown op":         func(c *relay.RowChange) { c.Op = 'x' },
		"update no before":   func(c *relay.RowChange) { c.Before = nil },
		"create with before": func(c *relay.RowChange) { c.Op = relay.OpCreate },
		"delete with after":  func(c *relay.RowChange) { c.Op = relay.OpDelete },
		"key not in row":     func(c *relay.RowChange) { c.Key = []string{"nope"} },
		"unencodable value": func(c *relay.RowChange) {
			c.After = map[string]any{"product_id": 1, "warehouse_id": 2, "f": make(chan int)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if msgs, err := NewEncoder("").Encode(c); err == nil {
				t.Fatalf("Encode = %s, want an error", msgs[0].Value)
			}
		})
	}
}

// What the relay writes, the service's decoder must read back.
func TestEncodeDecodeRoundTrip(t *testing.T) {
	c := encodeStockUpdate()
	msgs, err := NewEncoder("").Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decoder{}.Decode(msgs[0].Topic, msgs[0].Key, msgs[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.StockChange{
		Product: 42, Warehouse: 6, Qty: 99,
		Pos:    inventory.Position{File: 5, Offset: 2048, Row: 3},
		Commit: time.UnixMilli(1764250012000),
	}
	sc, ok := got.(inventory.StockChange)
	if !ok || sc.Product != want.Product || sc.Warehouse != want.Warehouse || sc.Qty != want.Qty ||
		sc.Pos != want.Pos || !sc.Commit.Equal(want.Commit) || sc.Deleted {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

// An update of the primary key becomes delete + tombstone + create, as
// Debezium emits it, so the old row does not linger.
func TestEncodeKeyChangeIsDeleteAndCreate(t *testing.T) {
	c := encodeStockUpdate()
	c.After = map[string]any{"product_id": int64(42), "warehouse_id": int32(7), "qty_salable": int32(99)}
	msgs, err := NewEncoder("").Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[1].Value != nil {
		t.Fatalf("got %d messages (tombstone %v), want delete, tombstone, create", len(msgs), msgs[1].Value == nil)
	}
	var got []inventory.StockChange
	for _, m := range []relay.BrokerRecord{msgs[0], msgs[2]} {
		ch, err := Decoder{}.Decode(m.Topic, m.Key, m.Value)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ch.(inventory.StockChange))
	}
	if !got[0].Deleted || got[0].Warehouse != 6 || got[1].Deleted || got[1].Warehouse != 7 || got[1].Qty != 99 {
		t.Fatalf("decoded %+v", got)
	}
	if string(msgs[0].Key) != `{"product_id":42,"warehouse_id":6}` || string(msgs[2].Key) != `{"product_id":42,"warehouse_id":7}` {
		t.Fatalf("keys %s %s", msgs[0].Key, msgs[2].Key)
	}
}

func TestEncoderHeartbeat(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	m := NewEncoder("shop").Heartbeat(at)
	if m.Topic != "__debezium-heartbeat.shop" || string(m.Key) != `{"serverName":"shop"}` || string(m.Value) != `{"ts_ms":1700000000123}` {
		t.Errorf("heartbeat %s %s %s", m.Topic, m.Key, m.Value)
	}
}
