package inventory

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestParsePosition(t *testing.T) {
	tests := []struct {
		file    string
		want    Position
		wantErr bool
	}{
		{"mysql-bin.000042", Position{File: 42, Offset: 7, Row: 1}, false},
		{"binlog.1", Position{File: 1, Offset: 7, Row: 1}, false},
		{"mysql-bin", Position{}, true},
		{"mysql-bin.", Position{}, true},
		{"mysql-bin.x1", Position{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParsePosition(tc.file, 7, 1)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParsePosition(%q) = %v, %v; want %v, err %v", tc.file, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestPositionOrder(t *testing.T) {
	ordered := []Position{{}, {1, 0, 0}, {1, 4, 0}, {1, 4, 2}, {1, 5, 0}, {2, 0, 0}}
	for i := range ordered {
		for j := range ordered {
			if got, want := ordered[i].Before(ordered[j]), i < j; got != want {
				t.Errorf("%v.Before(%v) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}

func TestParseProductID(t *testing.T) {
	for _, s := range []string{"0", "-1", "abc", "", "1.5", "99999999999999999999"} {
		if _, err := ParseProductID(s); ErrorCode(err) != CodeInvalid {
			t.Errorf("ParseProductID(%q) err = %v, want invalid", s, err)
		}
	}
	if id, err := ParseProductID("42"); err != nil || id != 42 {
		t.Errorf("ParseProductID(42) = %d, %v", id, err)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err  error
		want Code
	}{
		{Errorf(CodeNotFound, "x"), CodeNotFound},
		{fmt.Errorf("wrapped: %w", Errorf(CodeInvalid, "x")), CodeInvalid},
		{context.DeadlineExceeded, CodeTimeout},
		{fmt.Errorf("x: %w", context.Canceled), CodeCanceled},
		{errors.New("boom"), CodeInternal},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.err), func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.want {
				t.Errorf("ErrorCode(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
	if ErrorMessage(errors.New("secret detail")) != "internal error" {
		t.Error("internal error details leak to clients")
	}
}

func TestRecordApply(t *testing.T) {
	p := func(o uint64) Position { return Position{File: 1, Offset: o} }
	rec := NewRecord(1, p(100), []Stock{{Warehouse: 2, Qty: 5}, {Warehouse: 1, Qty: 3}})
	steps := []struct {
		c       StockChange
		changed bool
		exists  bool
	}{
		{StockChange{Product: 1, Warehouse: 1, Qty: 4, Pos: p(99)}, false, true},  // before the floor
		{StockChange{Product: 1, Warehouse: 1, Qty: 4, Pos: p(100)}, true, true},  // at the floor: not in the snapshot
		{StockChange{Product: 1, Warehouse: 1, Qty: 4, Pos: p(100)}, false, true}, // duplicate
		{StockChange{Product: 1, Warehouse: 1, Deleted: true, Pos: p(200)}, true, true},
		{StockChange{Product: 1, Warehouse: 2, Deleted: true, Pos: p(201)}, true, false},
		{StockChange{Product: 1, Warehouse: 2, Qty: 9, Pos: p(150)}, false, false}, // replay older than the delete
		{StockChange{Product: 1, Warehouse: 3, Qty: 1, Pos: p(300)}, true, true},
	}
	for i, st := range steps {
		if got := rec.Apply(st.c); got != st.changed {
			t.Errorf("step %d: changed = %v, want %v", i, got, st.changed)
		}
		if got := rec.Exists(); got != st.exists {
			t.Errorf("step %d: exists = %v, want %v", i, got, st.exists)
		}
	}
	if len(rec.Rows) != 3 || rec.Rows[0].Warehouse != 1 || rec.Rows[2].Warehouse != 3 {
		t.Errorf("rows not kept sorted with tombstones: %+v", rec.Rows)
	}
}

func TestDirectoryView(t *testing.T) {
	p := func(o uint64) Position { return Position{File: 1, Offset: o} }
	d := NewDirectory(p(10), []Warehouse{{1, "B", true}, {2, "A", true}, {3, "C", false}})
	rec := NewRecord(5, p(10), []Stock{{1, 1}, {2, 2}, {3, 3}, {4, 4}})
	inv, ok := d.View(&rec)
	if !ok || fmt.Sprint(inv.Warehouses) != "[{A 2} {B 1}]" {
		t.Fatalf("View = %v %v", inv, ok)
	}
	if d.Apply(WarehouseChange{Warehouse: Warehouse{1, "B", true}, Pos: p(5)}) != d {
		t.Error("older change altered the directory")
	}
	same := d.Apply(WarehouseChange{Warehouse: Warehouse{1, "B", true}, Pos: p(20)})
	if same.Epoch() != d.Epoch() {
		t.Error("a change with the same content bumped the epoch")
	}
	nd := d.Apply(WarehouseChange{Warehouse: Warehouse{4, "D", true}, Pos: p(20)})
	if nd.Epoch() == d.Epoch() {
		t.Error("a new warehouse did not bump the epoch")
	}
	if inv, _ := nd.View(&rec); len(inv.Warehouses) != 3 {
		t.Errorf("new warehouse not in view: %v", inv)
	}
}

func TestDirectoryRefresh(t *testing.T) {
	p := func(o uint64) Position { return Position{File: 1, Offset: o} }
	d := NewDirectory(p(10), []Warehouse{{1, "A", true}, {2, "B", true}, {3, "C", true}})
	// Applied after the refresh's snapshot: stays.
	d = d.Apply(WarehouseChange{Warehouse: Warehouse{3, "C", false}, Pos: p(30)})
	// The snapshot at 20 shows A deactivated (a change the directory missed),
	// B gone, D new, and C as it was before 30.
	nd := d.Refresh(p(20), []Warehouse{{1, "A", false}, {3, "C", true}, {4, "D", true}})
	tests := []struct {
		id     WarehouseID
		want   Warehouse
		exists bool
	}{
		{1, Warehouse{1, "A", false}, true},
		{2, Warehouse{}, false},
		{3, Warehouse{3, "C", false}, true},
		{4, Warehouse{4, "D", true}, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.id), func(t *testing.T) {
			if got, ok := nd.Lookup(tc.id); ok != tc.exists || got != tc.want {
				t.Errorf("Lookup(%d) = %v %v, want %v %v", tc.id, got, ok, tc.want, tc.exists)
			}
		})
	}
	if nd.Epoch() <= d.Epoch() {
		t.Error("a refresh did not bump the epoch")
	}
	if nd.Apply(WarehouseChange{Warehouse: Warehouse{2, "B", true}, Pos: p(15)}) != nd {
		t.Error("a change from before the refresh's snapshot was applied")
	}
}
