package main

import (
	"testing"
	"time"
)

const sec = time.Second

// testHistory: product 1 in warehouse 1 (seed qty 3, then 10 at 10 sec, 20 at
// 20 sec, deleted at 30 sec, re-inserted as 40 at 40 sec); warehouse 1 (seed code
// 1) deactivated at 25 sec (code 25).
func testHistory() *history {
	h := newHistory(2, 2)
	h.addWarehouse(1, version{Seq: 1, Live: true})
	h.addWarehouse(2, version{Seq: 2, Live: true})
	h.addRow(1, 1, version{Seq: 3, Live: true})
	for _, v := range []version{
		{Seq: 10, Live: true, Prev: 3},
		{Seq: 20, Live: true, Prev: 10},
		{Seq: 30, Live: false, Prev: 20},
		{Seq: 40, Live: true},
	} {
		v.Tx, v.Sent, v.Done = int(v.Seq), time.Duration(v.Seq)*sec-time.Millisecond, time.Duration(v.Seq)*sec
		h.addRow(1, 1, v)
	}
	h.addWarehouse(1, version{Seq: 25, Live: false, Tx: 25, Sent: 25*sec - time.Millisecond, Done: 25 * sec})
	return h
}

func TestAnswerAge(t *testing.T) {
	h := testHistory()
	shown := func(qty, code int64) []productView {
		return []productView{{P: 1, Found: true, Rows: []rowView{{W: 1, K: code, Qty: qty}}}}
	}
	for _, tc := range []struct {
		name    string
		sent    time.Duration
		view    []productView
		age     time.Duration
		phantom bool
	}{
		{"latest value", 15 * sec, shown(10, 1), 0, false},
		{"one write behind", 22 * sec, shown(10, 1), 2 * sec, false},
		{"seed value long after", 12 * sec, shown(3, 1), 2 * sec, false},
		{"warehouse deactivation missed", 27 * sec, shown(20, 1), 2 * sec, false},
		{"absent: warehouse inactive", 27 * sec, []productView{{P: 1, Found: true}}, 0, false},
		{"absent: deleted", 35 * sec, []productView{{P: 1, Found: true}}, 0, false},
		{"not found after the re-insert", 43 * sec, []productView{{P: 1}}, 3 * sec, false},
		{"not found before the delete", 22 * sec, []productView{{P: 1}}, 22 * sec, false},
		{"value never written", 15 * sec, shown(11, 1), 0, true},
		{"warehouse code never written", 15 * sec, shown(10, 7), 0, true},
		{"value from the future", 15 * sec, shown(20, 1), 0, true},
		{"product never written, not found", 15 * sec, []productView{{P: 2}}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := observation{Sent: tc.sent, Recv: tc.sent + time.Millisecond, Products: tc.view}
			got, bad := answerAge(h, &o)
			if got.Age != tc.age {
				t.Errorf("age %sec, want %sec (lacked %+v)", got.Age, tc.age, got.Lacked)
			}
			if (len(bad) > 0) != tc.phantom {
				t.Errorf("phantom violations %v, want %v", bad, tc.phantom)
			}
		})
	}
}

func TestMonotonic(t *testing.T) {
	obs := func(node int, inc int32, sent, recv time.Duration, qty int64) observation {
		return observation{Node: node, Inc: inc, Sent: sent, Recv: recv,
			Products: []productView{{P: 1, Found: true, Rows: []rowView{{W: 1, K: 1, Qty: qty}}}}}
	}
	for _, tc := range []struct {
		name string
		obs  []observation
		bad  int
	}{
		{"forward", []observation{obs(0, 1, 1*sec, 2*sec, 10), obs(0, 1, 3*sec, 4*sec, 20)}, 0},
		{"back after an answer received", []observation{obs(0, 1, 1*sec, 2*sec, 20), obs(0, 1, 3*sec, 4*sec, 10)}, 1},
		{"concurrent requests may differ", []observation{obs(0, 1, 1*sec, 3*sec, 20), obs(0, 1, 2*sec, 4*sec, 10)}, 0},
		{"another incarnation", []observation{obs(0, 1, 1*sec, 2*sec, 20), obs(0, 2, 3*sec, 4*sec, 10)}, 0},
		{"another node", []observation{obs(0, 1, 1*sec, 2*sec, 20), obs(1, 1, 3*sec, 4*sec, 10)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, bad := monotonic(tc.obs); len(bad) != tc.bad {
				t.Errorf("%d violations, want %d: %v", len(bad), tc.bad, bad)
			}
		})
	}
}

func TestWarehouseCode(t *testing.T) {
	w, seq, err := parseWarehouseCode(warehouseCode(3, 1234))
	if err != nil || w != 3 || seq != 1234 {
		t.Errorf("round trip: %d %d %v", w, seq, err)
	}
	for _, bad := range []string{"WH-AMS", "W3", "X3-4", "W-4", "W3-x"} {
		if _, _, err := parseWarehouseCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
