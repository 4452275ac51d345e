package debezium

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The direct writers produce exactly what encoding/json would.
func TestEncodeDirectMatchesEncodingJSON(t *testing.T) {
	gtid, q, th := "0-1-77", `UPDATE t SET a = "x"`, int64(42)
	for _, s := range []encodeSourceBlock{
		{Version: "gintoki", Connector: "mysql", Name: "p", TsMs: 1700000000123, Snapshot: "false", DB: "inventory",
			Table: "warehouse_stock_item", ServerID: 1, File: "mysql-bin.000003", Pos: 9876543210, Row: 4},
		{Version: "v", Connector: "c", Name: "ünï\"\\", DB: "d<>&", Table: "t\n", GTID: &gtid, Query: &q, Thread: &th, Sequence: &q},
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := encodeSource(&b, s); err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes <, > and & unless told not to; encodeJSON
		// never does, as the encoder did before.
		var std bytes.Buffer
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want2 := b.String(), std.String()[:std.Len()-1]; got != want2 {
			t.Errorf("encodeSource:\n got %s\nwant %s\n(json.Marshal: %s)", got, want2, want)
		}
	}
	for _, v := range []any{nil, int64(-9223372036854775808), int32(-5), int16(7), int8(-1), 12, uint64(18446744073709551615),
		uint32(4), uint16(5), uint8(6), "plain", "", "quote\"", "back\\slash", "tab\t", "ünicode", "<&>", "\u2028", []byte{1, 2}, 1.5, float32(2.25)} {
		var b, std bytes.Buffer
		if err := encodeJSON(&b, v); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&std)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), std.String()[:std.Len()-1]; got != want {
			t.Errorf("encodeJSON(%#v) = %s, want %s", v, got, want)
		}
	}
}
