package app

import (
	"context"
	"slices"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

func TestDedup(t *testing.T) {
	long := func(n int, dupAt int) []inventory.ProductID {
		ids := make([]inventory.ProductID, n)
		for i := range ids {
			ids[i] = inventory.ProductID(n - i)
		}
		if dupAt >= 0 {
			ids[dupAt] = ids[0]
		}
		return ids
	}
	tests := []struct {
		name string
		in   []inventory.ProductID
		want []inventory.ProductID
	}{
		{"one", []inventory.ProductID{7}, []inventory.ProductID{7}},
		{"no repeats", []inventory.ProductID{3, 1, 2}, []inventory.ProductID{3, 1, 2}},
		{"repeats keep the first appearance", []inventory.ProductID{5, 9, 5, 6, 9}, []inventory.ProductID{5, 9, 6}},
		{"all the same", []inventory.ProductID{4, 4, 4}, []inventory.ProductID{4}},
		{"largest sorted on the stack", long(batchSortedMax, -1), long(batchSortedMax, -1)},
		{"over the stack's size, no repeats", long(batchSortedMax+1, -1), long(batchSortedMax+1, -1)},
		// long(n, n-1) ends with a copy of its first id.
		{"over the stack's size, a repeat last", long(batchSortedMax+1, batchSortedMax), long(batchSortedMax+1, -1)[:batchSortedMax]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := dedup(in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("dedup(%v) = %v, want %v", tc.in, got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("dedup changed its input: %v", in)
			}
		})
	}
}

// TestBatchArena: bodies of very different sizes, hits and misses mixed,
// come back whole and in order although the arena was sized after the
// first (small) one and must grow.
func TestBatchArena(t *testing.T) {
	stock := map[inventory.ProductID][]inventory.Stock{}
	var ids []inventory.ProductID
	for id := inventory.ProductID(1); id <= 60; id++ {
		n := 1
		if id > 1 {
			n = 1 + int(id)%5 // product 1: the smallest body, first
		}
		for w := range n {
			stock[id] = append(stock[id], inventory.Stock{Warehouse: inventory.WarehouseID(w%2 + 1), Qty: int32(id)*100 + int32(w)})
		}
		ids = append(ids, id)
	}
	s := newTestService(t, &fakeStore{load: staticLoad(pos(100), stock)}, Config{MaxBatch: 100})
	want := map[inventory.ProductID]string{}
	for _, id := range ids {
		if id%3 != 0 { // every third one is a miss in the batch
			want[id] = get(t, s, id)
		}
	}
	res, err := s.GetBatch(context.Background(), append(ids, 61), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bodies) != len(ids) || !slices.Equal(res.NotFound, []inventory.ProductID{61}) {
		t.Fatalf("%d bodies, not found %v; want %d and [61]", len(res.Bodies), res.NotFound, len(ids))
	}
	for i, id := range ids {
		if id%3 == 0 {
			want[id] = get(t, s, id)
		}
		if got := string(res.Bodies[i]); got != want[id] {
			t.Errorf("body %d = %q, want %q", i, got, want[id])
		}
		if cap(res.Bodies[i]) != len(res.Bodies[i]) {
			t.Errorf("body %d can be appended to in place: cap %d, len %d", i, cap(res.Bodies[i]), len(res.Bodies[i]))
		}
	}
}
