package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// These tests force, one by one, the interleavings of a database fill and
// the change stream that docs/consistency.md lists. The fake store stops
// the fill between "read the database" and "install" so a change can be
// consumed exactly there.

func stock(product, wh int, qty int32, at uint64) inventory.StockChange {
	return inventory.StockChange{Product: inventory.ProductID(product), Warehouse: inventory.WarehouseID(wh), Qty: qty, Pos: pos(at)}
}

func deleted(product, wh int, at uint64) inventory.StockChange {
	return inventory.StockChange{Product: inventory.ProductID(product), Warehouse: inventory.WarehouseID(wh), Deleted: true, Pos: pos(at)}
}

// fillWithChanges starts a read of product 1 whose load returns snapshot
// (at, rows); while the load is stopped, it applies changes; then it lets the
// load finish and returns what the read got.
func fillWithChanges(t *testing.T, s *Service, release chan struct{}, started chan struct{}, changes ...inventory.Change) string {
	t.Helper()
	return fillDuring(t, s, release, started, func() {
		for _, c := range changes {
			s.ApplyChange(c)
		}
	})
}

// fillDuring is fillWithChanges with any action in place of the changes.
func fillDuring(t *testing.T, s *Service, release chan struct{}, started chan struct{}, during func()) string {
	t.Helper()
	var got string
	var wg sync.WaitGroup
	wg.Go(func() { got = get(t, s, 1) })
	<-started
	during()
	close(release)
	wg.Wait()
	return got
}

func TestInterleavings(t *testing.T) {
	snapshot := map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}}
	tests := []struct {
		name    string
		snapPos uint64
		changes []inventory.Change
		want    string // what the read returns and what stays cached
	}{
		{"change after the snapshot, consumed during the fill", 100,
			[]inventory.Change{stock(1, 1, 7, 150)}, "1:AMS=7"},
		{"change before the snapshot (already in it), consumed during the fill", 100,
			[]inventory.Change{stock(1, 1, 3, 90)}, "1:AMS=5"},
		{"insert in another warehouse during the fill", 100,
			[]inventory.Change{stock(1, 2, 4, 120)}, "1:AMS=5,BER=4"},
		{"delete during the fill", 100,
			[]inventory.Change{deleted(1, 1, 130)}, "error:not_found"},
		{"delete then re-insert during the fill", 100,
			[]inventory.Change{deleted(1, 1, 130), stock(1, 1, 8, 140)}, "1:AMS=8"},
		{"truncate during the fill", 100,
			[]inventory.Change{inventory.Truncate{Table: inventory.TableStock, Pos: pos(110)}}, "error:not_found"},
		{"truncate then insert during the fill", 100,
			[]inventory.Change{inventory.Truncate{Table: inventory.TableStock, Pos: pos(110)}, stock(1, 2, 6, 120)}, "1:BER=6"},
		{"change at the snapshot position itself (not in the snapshot)", 100,
			[]inventory.Change{stock(1, 1, 9, 100)}, "1:AMS=9"},
		{"change for another product during the fill", 100,
			[]inventory.Change{stock(2, 1, 1, 150)}, "1:AMS=5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			load, started, release := blockingLoad(staticLoad(pos(tc.snapPos), snapshot))
			store := &fakeStore{load: load}
			s := newTestService(t, store, Config{})
			if got := fillWithChanges(t, s, release, started, tc.changes...); got != tc.want {
				t.Errorf("read during fill = %q, want %q", got, tc.want)
			}
			if got := get(t, s, 1); got != tc.want {
				t.Errorf("cached after fill = %q, want %q", got, tc.want)
			}
		})
	}
}

// A change consumed for an uncached key before a fill starts, whose
// transaction the database does not show yet (the binlog is written before
// the engine commits): the fill's snapshot is older than the change, so the
// fill must not install it; it retries until the snapshot catches up.
func TestSnapshotBehindConsumedChangeIsRetried(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	store := &fakeStore{load: func(_ context.Context, ids []inventory.ProductID) (Snapshot, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls < 3 { // the commit is not visible yet
			return Snapshot{Pos: pos(140), Stock: map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}}}, nil
		}
		return Snapshot{Pos: pos(160), Stock: map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 7}}}}, nil
	}}
	s := newTestService(t, store, Config{})
	s.ApplyChange(stock(1, 1, 7, 150)) // uncached: only raises the product's mark
	if got := get(t, s, 1); got != "1:AMS=7" {
		t.Fatalf("Get = %q, want the value after the consumed change", got)
	}
	if s.stats.SnapshotRetry.Load() != 2 {
		t.Fatalf("snapshot retries = %d, want 2", s.stats.SnapshotRetry.Load())
	}
}

// A snapshot that never catches up with a consumed change (the change's
// position is from another server, or a restored backup) is answered, but
// marked stale and never cached.
func TestSnapshotThatNeverCatchesUpIsNotCached(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(140), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}})}
	s := newTestService(t, store, Config{SnapshotRetries: 2})
	s.ApplyChange(stock(1, 1, 7, 150))
	if got := get(t, s, 1); got != "stale|1:AMS=5" {
		t.Fatalf("Get = %q, want the database's answer marked stale", got)
	}
	if _, cached := s.cache.Get(nil, 1); cached {
		t.Fatal("a snapshot older than a consumed change was cached")
	}
}

// Replays and duplicates (relay restart, consumer restart) never move a
// value back in time.
func TestReplaysNeverGoBack(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}})}
	s := newTestService(t, store, Config{})
	get(t, s, 1)
	steps := []struct {
		change inventory.Change
		want   string
	}{
		{stock(1, 1, 6, 200), "1:AMS=6"},
		{stock(1, 1, 7, 300), "1:AMS=7"},
		{stock(1, 1, 6, 200), "1:AMS=7"}, // replay of an older change
		{stock(1, 1, 7, 300), "1:AMS=7"}, // duplicate
		{stock(1, 1, 4, 50), "1:AMS=7"},  // older than the snapshot
		{deleted(1, 1, 400), "error:not_found"},
		{stock(1, 1, 7, 300), "error:not_found"}, // replayed create after the delete
		{stock(1, 2, 2, 500), "1:BER=2"},         // insert into a negative entry
	}
	for i, st := range steps {
		s.ApplyChange(st.change)
		if got := get(t, s, 1); got != st.want {
			t.Fatalf("step %d: Get = %q, want %q", i, got, st.want)
		}
	}
	if c := store.calls.Load(); c != 1 {
		t.Fatalf("loads = %d, want 1: changes apply in place", c)
	}
}

// Rows of one product live in different partitions, so their changes can be
// consumed out of global order; each row keeps its own version.
func TestRowsOfOneProductOrderedIndependently(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}, {Warehouse: 2, Qty: 5}}})}
	s := newTestService(t, store, Config{})
	get(t, s, 1)
	s.ApplyChange(stock(1, 2, 9, 300)) // later commit, consumed first
	s.ApplyChange(stock(1, 1, 8, 200)) // earlier commit, other partition
	if got := get(t, s, 1); got != "1:AMS=8,BER=9" {
		t.Fatalf("Get = %q", got)
	}
}

func TestWarehouseChangesRerender(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 1, Qty: 1}, {Warehouse: 2, Qty: 2}, {Warehouse: 3, Qty: 3}},
	})}
	s := newTestService(t, store, Config{})
	get(t, s, 1)
	wh := func(id int, code string, active bool, at uint64) inventory.WarehouseChange {
		return inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: inventory.WarehouseID(id), Code: code, Active: active}, Pos: pos(at)}
	}
	steps := []struct {
		change inventory.Change
		want   string
	}{
		{wh(3, "CDG", true, 200), "1:AMS=1,BER=2,CDG=3"}, // reactivated
		{wh(1, "AMS", false, 210), "1:BER=2,CDG=3"},      // deactivated
		{wh(2, "ZRH", true, 220), "1:CDG=3,ZRH=2"},       // renamed: sorted by the new code
		{wh(1, "AMS", true, 150), "1:CDG=3,ZRH=2"},       // replay of an older change
		{inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 3}, Deleted: true, Pos: pos(230)}, "1:ZRH=2"},
		{inventory.Truncate{Table: inventory.TableWarehouse, Pos: pos(240)}, "1:"},
		{wh(1, "AMS", true, 250), "1:AMS=1"},
	}
	for i, st := range steps {
		s.ApplyChange(st.change)
		for round := range 2 { // the re-render, then the re-rendered entry
			if got := get(t, s, 1); got != st.want {
				t.Fatalf("step %d round %d: Get = %q, want %q", i, round, got, st.want)
			}
		}
	}
	if c := store.calls.Load(); c != 1 {
		t.Fatalf("loads = %d, want 1: warehouse changes re-render, never reload", c)
	}
}

// An entry evicted by the cache between a read and its re-render must not
// be put back from the read's copy: a change may have been applied in
// between.
func TestRerenderDoesNotResurrectEvictedEntry(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 1}}})}
	s := newTestService(t, store, Config{})
	get(t, s, 1)
	old, _ := s.cache.Get(nil, 1)
	s.ApplyChange(inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 1, Code: "AAA", Active: true}, Pos: pos(200)})
	s.cache.Delete(1)
	if _, err := s.rerender(1, old); err != nil {
		t.Fatal(err)
	}
	if _, cached := s.cache.Get(nil, 1); cached {
		t.Fatal("re-render re-installed an evicted entry")
	}
}

// A warehouse change consumed while Start is loading the directory (its
// commit after the load's snapshot) must not be lost when Start stores
// what it loaded.
func TestWarehouseChangeDuringStart(t *testing.T) {
	store := &blockingWarehouses{fakeStore: fakeStore{warehouses: testWarehouses,
		load: staticLoad(pos(200), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 1}}})},
		started: make(chan struct{}), release: make(chan struct{})}
	s := New(store, newMapCache(), []Renderer{textRenderer{}}, Config{}, slog.New(slog.DiscardHandler))
	t.Cleanup(s.Close)
	done := make(chan error)
	go func() { done <- s.Start(context.Background()) }()
	<-store.started
	s.ApplyChange(inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 1, Code: "AMS", Active: false}, Pos: pos(150)})
	s.ApplyChange(inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 2, Code: "BER", Active: false}, Pos: pos(50)}) // in the snapshot
	close(store.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, 1); got != "1:" {
		t.Fatalf("Get = %q, want the deactivation applied", got)
	}
	if w, _ := s.dir.Load().Lookup(2); !w.Active {
		t.Fatal("a change older than the snapshot was applied over it")
	}
}

type blockingWarehouses struct {
	fakeStore
	started, release chan struct{}
}

func (b *blockingWarehouses) LoadWarehouses(ctx context.Context) ([]inventory.Warehouse, inventory.Position, error) {
	close(b.started)
	<-b.release
	return b.fakeStore.warehouses, pos(100), nil
}
