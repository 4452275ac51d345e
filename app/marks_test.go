package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// farAhead is a position no snapshot of the test database ever reaches: a
// change from another server's binlog, or from before a restored backup.
var farAhead = inventory.Position{File: 999, Offset: 1}

// One change whose position the database never reaches degrades its own
// key only: every other key still fills, is cached and stays fresh.
func TestFarAheadChangeDegradesOnlyItsKey(t *testing.T) {
	table := map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 1, Qty: 5}}, 2: {{Warehouse: 1, Qty: 6}}, 3: {{Warehouse: 1, Qty: 7}},
	}
	store := &fakeStore{load: staticLoad(pos(100), table)}
	s := newTestService(t, store, Config{SnapshotRetries: 3})
	s.ApplyChange(inventory.StockChange{Product: 1, Warehouse: 1, Qty: 50, Pos: farAhead})

	if got := get(t, s, 1); got != "stale|1:AMS=5" {
		t.Fatalf("Get(1) = %q, want the database's answer marked stale", got)
	}
	if got := get(t, s, 2); got != "2:AMS=6" {
		t.Fatalf("Get(2) = %q, want a fresh answer", got)
	}
	if _, cached := s.cache.Get(nil, 2); !cached {
		t.Fatal("an unrelated key was not cached")
	}
	s.ApplyChange(stock(2, 1, 8, 200))
	if got := get(t, s, 2); got != "2:AMS=8" {
		t.Fatalf("Get(2) after a change = %q, want it applied", got)
	}

	// A batch with the degraded key: the others are installed, the batch
	// is marked stale.
	res, err := s.GetBatch(context.Background(), []inventory.ProductID{1, 3}, 0)
	if err != nil || !res.Stale || len(res.Bodies) != 2 {
		t.Fatalf("GetBatch = %+v, %v; want both bodies, marked stale", res, err)
	}
	if _, cached := s.cache.Get(nil, 3); !cached {
		t.Fatal("the batch's safe key was not cached")
	}
	if _, cached := s.cache.Get(nil, 1); cached {
		t.Fatal("the degraded key was cached")
	}

	// Once a fill gave up on the mark, later reads of the key do not wait
	// through the retries again: one load each.
	before := store.calls.Load()
	if got := get(t, s, 1); got != "stale|1:AMS=5" {
		t.Fatalf("Get(1) again = %q", got)
	}
	if n := store.calls.Load() - before; n != 1 {
		t.Fatalf("loads for a key already given up on = %d, want 1", n)
	}
	if s.stats.UnsafeFills.Load() != 3 {
		t.Fatalf("unsafe fills = %d, want 3", s.stats.UnsafeFills.Load())
	}
}

// The old interleaving that a global high mark used to guard, with a key of
// its own: a change to another key, consumed but not yet visible to
// snapshots, does not hold this key's fill back.
func TestCommitWindowIsPerKey(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(140), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}})}
	s := newTestService(t, store, Config{})
	s.ApplyChange(stock(2, 1, 7, 150)) // another key, ahead of the snapshot
	if got := get(t, s, 1); got != "1:AMS=5" {
		t.Fatalf("Get = %q, want a fresh, cached answer", got)
	}
	if s.stats.SnapshotRetry.Load() != 0 {
		t.Fatalf("snapshot retries = %d, want 0", s.stats.SnapshotRetry.Load())
	}
}

// A change applied to a cached entry raises the key's mark too: if the
// entry is then evicted, the next fill must still not install a snapshot
// from before the change.
func TestEvictedEntryRefillsAfterItsChanges(t *testing.T) {
	snapAt := pos(100)
	store := &fakeStore{}
	store.load = func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		store.mu.Lock()
		at := snapAt
		store.mu.Unlock()
		qty := int32(5)
		if !at.Before(pos(151)) {
			qty = 7
		}
		return staticLoad(at, map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: qty}}})(ctx, ids)
	}
	s := newTestService(t, store, Config{SnapshotRetries: 2})
	get(t, s, 1)
	s.ApplyChange(stock(1, 1, 7, 150)) // applied in place
	s.cache.Delete(1)                  // evicted for room
	if got := get(t, s, 1); got != "stale|1:AMS=5" {
		t.Fatalf("Get = %q: a snapshot from before an applied change must not be cached", got)
	}
	store.mu.Lock()
	snapAt = pos(160)
	store.mu.Unlock()
	if got := get(t, s, 1); got != "1:AMS=7" {
		t.Fatalf("Get = %q, want the caught-up snapshot", got)
	}
}

// Upkeep drops the marks the database has caught up with, probing it when
// no fill shows a snapshot, so marks do not pile up on a node that never
// misses.
func TestUpkeepDropsCaughtUpMarks(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), nil)}
	s := newTestService(t, store, Config{})
	for id := 1; id <= 50; id++ {
		s.ApplyChange(stock(id, 1, 1, uint64(200+id)))
	}
	s.ApplyChange(inventory.StockChange{Product: 99, Warehouse: 1, Pos: farAhead})
	if s.Marks() != 51 {
		t.Fatalf("marks = %d, want 51", s.Marks())
	}
	store.setWarehouses(pos(300), nil)
	s.upkeep(context.Background())
	if s.Marks() != 1 {
		t.Fatalf("marks after upkeep = %d, want 1 (the far-ahead one)", s.Marks())
	}
}

// A truncate consumed for uncached keys, before snapshots show it, raises
// the floor: no key installs a snapshot from before it.
func TestTruncateRaisesTheFloor(t *testing.T) {
	calls := 0
	store := &fakeStore{}
	store.load = func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		store.mu.Lock()
		calls++
		c := calls
		store.mu.Unlock()
		if c < 3 {
			return staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}})(ctx, ids)
		}
		return staticLoad(pos(200), nil)(ctx, ids)
	}
	s := newTestService(t, store, Config{})
	s.ApplyChange(inventory.Truncate{Table: inventory.TableStock, Pos: pos(150)})
	if got := get(t, s, 1); got != "error:not_found" {
		t.Fatalf("Get = %q, want the truncated table's answer", got)
	}
	if s.stats.SnapshotRetry.Load() != 2 {
		t.Fatalf("snapshot retries = %d, want 2", s.stats.SnapshotRetry.Load())
	}
}

func TestInvalidate(t *testing.T) {
	table := map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}, 2: {{Warehouse: 1, Qty: 6}}}
	t.Run("cached entry is evicted", func(t *testing.T) {
		store := &fakeStore{load: staticLoad(pos(100), table)}
		s := newTestService(t, store, Config{})
		get(t, s, 1)
		s.Invalidate(1)
		if _, cached := s.cache.Get(nil, 1); cached {
			t.Fatal("entry still cached after Invalidate")
		}
		if got := get(t, s, 1); got != "1:AMS=5" {
			t.Fatalf("Get after Invalidate = %q", got)
		}
	})
	t.Run("fill in flight answers uncached", func(t *testing.T) {
		load, started, release := blockingLoad(staticLoad(pos(100), table))
		s := newTestService(t, &fakeStore{load: load}, Config{})
		if got := fillDuring(t, s, release, started, func() { s.Invalidate(1) }); got != "stale|1:AMS=5" {
			t.Fatalf("read during the fill = %q, want it marked stale", got)
		}
		if _, cached := s.cache.Get(nil, 1); cached {
			t.Fatal("a fill that raced an invalidation was cached")
		}
	})
	t.Run("later fills wait for what was consumed", func(t *testing.T) {
		store := &fakeStore{load: staticLoad(pos(100), table)}
		s := newTestService(t, store, Config{SnapshotRetries: 1})
		s.ApplyChange(stock(2, 1, 9, 150)) // consumed, not yet visible
		s.Invalidate(1)                    // an undecodable record for key 1 after it
		if got := get(t, s, 1); got != "stale|1:AMS=5" {
			t.Fatalf("Get = %q: a snapshot before the invalidated record must not be cached", got)
		}
	})
	t.Run("all", func(t *testing.T) {
		load, started, release := blockingLoad(staticLoad(pos(200), table))
		s := newTestService(t, &fakeStore{load: load}, Config{})
		if got := fillDuring(t, s, release, started, s.InvalidateAll); got != "stale|1:AMS=5" {
			t.Fatalf("read during InvalidateAll = %q, want it marked stale", got)
		}
		if _, cached := s.cache.Get(nil, 1); cached {
			t.Fatal("a fill that raced InvalidateAll was cached")
		}
	})
}

func TestFillProblem(t *testing.T) {
	fail := errors.New("db down")
	store := &fakeStore{}
	store.load = func(context.Context, []inventory.ProductID) (Snapshot, error) {
		return Snapshot{}, inventory.Wrap(inventory.CodeUnavailable, fail, "load")
	}
	s := newTestService(t, store, Config{FillFailAfter: 1})
	if err := s.FillProblem(); err != nil {
		t.Fatalf("FillProblem before any load = %v", err)
	}
	get(t, s, 1)
	if err := s.FillProblem(); !errors.Is(err, fail) {
		t.Fatalf("FillProblem after a failed load = %v, want it to wrap %v", err, fail)
	}
	store.setWarehouses(inventory.Position{}, fail)
	s.upkeep(context.Background())
	if s.FillProblem() == nil {
		t.Fatal("a failed probe cleared the problem")
	}
	store.setWarehouses(pos(100), nil)
	s.upkeep(context.Background())
	if err := s.FillProblem(); err != nil {
		t.Fatalf("FillProblem after the database answered again = %v", err)
	}
}

// A warehouse record that cannot be applied may have carried a change the
// directory missed: answers are marked stale until a reload from a
// snapshot after everything consumed has been applied, and a warehouse
// change consumed meanwhile survives the reload.
func TestRefreshDirectory(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(10), map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 1, Qty: 5}, {Warehouse: 2, Qty: 4}, {Warehouse: 3, Qty: 3}},
	})}
	s := newTestService(t, store, Config{RefreshGrace: time.Hour})
	if got := get(t, s, 1); got != "1:AMS=5,BER=4" {
		t.Fatalf("Get = %q", got)
	}
	s.ApplyChange(stock(9, 1, 1, 40)) // consumed: the reload must be after it
	s.RefreshDirectory()              // a lost record: BER was deactivated at 50
	if got := get(t, s, 1); got != "stale|1:AMS=5,BER=4" {
		t.Fatalf("Get while a reload is pending = %q, want it marked stale", got)
	}
	setWarehouses := func(at inventory.Position, ws ...inventory.Warehouse) {
		store.mu.Lock()
		defer store.mu.Unlock()
		store.warehouses, store.warehousesAt = ws, at
	}
	amsOn, berOff, cdgOff := inventory.Warehouse{ID: 1, Code: "AMS", Active: true}, inventory.Warehouse{ID: 2, Code: "BER"}, inventory.Warehouse{ID: 3, Code: "CDG"}
	setWarehouses(pos(30), amsOn, berOff, cdgOff) // a snapshot from before what was consumed
	s.upkeep(context.Background())
	if got := get(t, s, 1); got != "stale|1:AMS=5,BER=4" {
		t.Fatalf("Get after a reload too old to apply = %q, want still stale", got)
	}
	s.ApplyChange(inventory.WarehouseChange{Warehouse: inventory.Warehouse{ID: 3, Code: "CDG", Active: true}, Pos: pos(70)})
	setWarehouses(pos(60), amsOn, berOff, cdgOff)
	s.upkeep(context.Background())
	if got := get(t, s, 1); got != "1:AMS=5,CDG=3" {
		t.Fatalf("Get after the reload = %q, want BER gone, CDG's later activation kept, unmarked", got)
	}
}

// A directory reload whose need the database never reaches (a far-ahead
// position was consumed) takes the latest snapshot once the grace has
// passed, rather than mark every answer stale for good.
func TestRefreshDirectoryPastTheGrace(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(10), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}, {Warehouse: 2, Qty: 4}}})}
	s := newTestService(t, store, Config{RefreshGrace: time.Nanosecond})
	get(t, s, 1)
	s.ApplyChange(inventory.StockChange{Product: 9, Warehouse: 1, Qty: 1, Pos: farAhead})
	s.RefreshDirectory()
	store.mu.Lock()
	store.warehouses = []inventory.Warehouse{{ID: 1, Code: "AMS", Active: true}, {ID: 2, Code: "BER"}}
	store.warehousesAt = pos(60)
	store.mu.Unlock()
	waitFor(t, func() bool { s.upkeep(context.Background()); return get(t, s, 1) == "1:AMS=5" })
}
