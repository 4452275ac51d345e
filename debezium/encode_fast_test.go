package debezium

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/gintoki/gintoki/relay"
)

// The reference encoder's source block is what encoding/json writes.
func TestEncodeReferenceSourceMatchesEncodingJSON(t *testing.T) {
	gtid, q, th := "0-1-77", `UPDATE t SET a = "x"`, int64(42)
	for _, s := range []refEncodeSourceBlock{
		{Version: "gintoki", Connector: "mysql", Name: "p", TsMs: 1700000000123, Snapshot: "false", DB: "inventory",
			Table: "warehouse_stock_item", ServerID: 1, File: "mysql-bin.000003", Pos: 9876543210, Row: 4},
		{Version: "v", Connector: "c", Name: "ünï\"\\", DB: "d<>&", Table: "t\n", GTID: &gtid, Query: &q, Thread: &th, Sequence: &q},
	} {
		var b, std bytes.Buffer
		if err := refEncodeSource(&b, s); err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes <, > and & unless told not to; the encoder
		// never does.
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), std.String()[:std.Len()-1]; got != want {
			t.Errorf("source block:\n got %s\nwant %s", got, want)
		}
	}
}

// appendJSON writes exactly what encoding/json would.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{nil, int64(-9223372036854775808), int32(-5), int16(7), int8(-1), 12, uint64(18446744073709551615),
		uint32(4), uint16(5), uint8(6), "plain", "", "quote\"", "back\\slash", "tab\t", "ünicode", "<&>", "\u2028", "\xff",
		[]byte{1, 2}, []byte{}, []byte(nil), 1.5, float32(2.25), true} {
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON([]byte("prefix"), v)
		if err != nil {
			t.Fatal(err)
		}
		if want := "prefix" + std.String()[:std.Len()-1]; string(got) != want {
			t.Errorf("appendJSON(%#v) = %s, want %s", v, got, want)
		}
	}
	if _, err := appendJSON(nil, math.NaN()); err == nil {
		t.Error("appendJSON(NaN): no error")
	}
}

// fuzzValue picks a column value of one of the types a relay.RowChange holds.
func fuzzValue(kind byte, n int64, s string) any {
	switch kind % 9 {
	case 0:
		return nil
	case 1:
		return n
	case 2:
		return int32(n)
	case 3:
		return uint64(n)
	case 4:
		return s
	case 5:
		return []byte(s)
	case 6:
		return float64(n) / 3
	case 7:
		return int8(n)
	default:
		return uint16(n)
	}
}

// The encoder writes, byte for byte, what the reference encoder (the
// encoding/json-based one it replaced) writes, and fails where it fails.
func FuzzEncodeMatchesReference(f *testing.F) {
	f.Add(byte('u'), "inventory", "warehouse_stock_item", "qty_salable", "x", int64(42), int64(43), byte(1), byte(2), uint8(2), "0-1-9", uint64(2048), int64(1764250012000))
	f.Add(byte('d'), "shop", "t<&>", "nöte", "a\"b", int64(-1), int64(-1), byte(4), byte(5), uint8(1), "", uint64(4), int64(0))
	f.Add(byte('c'), "d", "t", "c", "\u2028", int64(7), int64(8), byte(0), byte(6), uint8(0), "g", uint64(0), int64(-5))
	f.Fuzz(func(t *testing.T, op byte, db, table, col, str string, a, b int64, kindA, kindB byte, keyCols uint8, gtid string, pos uint64, ms int64) {
		cols := []string{"id", "sub", col}
		before := map[string]any{"id": fuzzValue(kindA, a, str), "sub": int32(a), col: fuzzValue(kindB, b, str)}
		after := map[string]any{"id": fuzzValue(kindA, b, str), "sub": int32(a), col: fuzzValue(kindB, a, str+col)}
		c := relay.RowChange{
			Database: db, Table: table, Op: op, Key: cols[:keyCols%4], Columns: cols[:2],
			Source: relay.SourceInfo{File: "mysql-bin." + str, Pos: pos, Row: uint32(b), GTID: gtid, ServerID: uint32(a), Time: time.UnixMilli(ms)},
		}
		if ms == 0 {
			c.Source.Time = time.Time{}
		}
		switch op % 4 {
		case 0:
			c.Op, c.After = relay.OpCreate, after
		case 1:
			c.Op, c.Before, c.After = relay.OpUpdate, before, after
		case 2:
			c.Op, c.Before = relay.OpDelete, before
		default:
			c.Before = before // an op byte of the fuzzer's, or a bad change
		}
		now := func() time.Time { return time.UnixMilli(1_700_000_000_000) }
		ref := &refEncoder{prefix: "p", now: now}
		e := NewEncoder("p")
		e.now = now
		want, wantErr := ref.Encode(c)
		got, err := e.Append([]relay.BrokerRecord{{Topic: "earlier"}}, c)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, reference error %v", err, wantErr)
		}
		if len(got) == 0 || got[0].Topic != "earlier" {
			t.Fatalf("Append lost the messages before it: %v", got)
		}
		if err != nil {
			if len(got) != 1 {
				t.Fatalf("Append failed with %v and appended %d messages", err, len(got)-1)
			}
			return
		}
		got = got[1:]
		if len(got) != len(want) {
			t.Fatalf("%d messages, reference %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Topic != want[i].Topic || !bytes.Equal(got[i].Key, want[i].Key) || !bytes.Equal(got[i].Value, want[i].Value) ||
				(got[i].Key == nil) != (want[i].Key == nil) || (got[i].Value == nil) != (want[i].Value == nil) {
				t.Fatalf("message %d:\n got %s %s %s\nwant %s %s %s", i, got[i].Topic, got[i].Key, got[i].Value, want[i].Topic, want[i].Key, want[i].Value)
			}
		}
	})
}

// BenchmarkEncode is the encoder's cost per row of an UPDATE of
// warehouse_stock_item, the relay's commonest change.
func BenchmarkEncode(b *testing.B) {
	e := NewEncoder("")
	c := encodeStockUpdate()
	b.ReportAllocs()
	var msgs []relay.BrokerRecord
	for b.Loop() {
		var err error
		if msgs, err = e.Append(msgs[:0], c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeReference is BenchmarkEncode for the reference encoder.
func BenchmarkEncodeReference(b *testing.B) {
	e := &refEncoder{prefix: EncoderDefaultPrefix, now: time.Now}
	c := encodeStockUpdate()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Encode(c); err != nil {
			b.Fatal(err)
		}
	}
}
