package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// table returns stock for products 1..n: product i has qty i in warehouse 1.
func table(n int) map[inventory.ProductID][]inventory.Stock {
	t := make(map[inventory.ProductID][]inventory.Stock, n)
	for i := 1; i <= n; i++ {
		t[inventory.ProductID(i)] = []inventory.Stock{{Warehouse: 1, Qty: int32(i)}}
	}
	return t
}

// Misses of different keys that arrive while every loader is busy gather
// and are loaded together, in one query.
func TestMissesGatherWhileLoadersAreBusy(t *testing.T) {
	load, started, release := blockingLoad(staticLoad(pos(100), table(50)))
	store := &fakeStore{load: load}
	s := newTestService(t, store, Config{Loaders: 1})
	var wg sync.WaitGroup
	results := make([]string, 51)
	wg.Go(func() { results[50] = get(t, s, 50) })
	<-started // the only loader is busy with product 50
	for i := 1; i < 50; i++ {
		wg.Go(func() { results[i] = get(t, s, inventory.ProductID(i)) })
	}
	waitFor(t, func() bool { return queued(s) == 49 })
	close(release)
	wg.Wait()
	for i := 1; i <= 50; i++ {
		if want := fmt.Sprintf("%d:AMS=%d", i, i); results[i] != want {
			t.Fatalf("product %d: got %q, want %q", i, results[i], want)
		}
	}
	if c := store.calls.Load(); c != 2 {
		t.Fatalf("queries = %d, want 2 (one lone miss, then the 49 gathered)", c)
	}
	if n := len(store.idsLoaded[1]); n != 49 {
		t.Fatalf("second query asked for %d ids, want 49", n)
	}
}

// A burst of misses never runs more fill queries at once than there are
// loaders, and a query never asks for more than FillBatch ids.
func TestLoadersBoundConcurrentQueries(t *testing.T) {
	const loaders, batch, misses = 3, 16, 200
	var inFlight, peak, idsInFlight atomic.Int64
	gate := make(chan struct{})
	store := &fakeStore{}
	inner := staticLoad(pos(100), table(misses))
	store.load = func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		idsInFlight.Add(int64(len(ids)))
		defer inFlight.Add(-1)
		<-gate
		return inner(ctx, ids)
	}
	s := newTestService(t, store, Config{Loaders: loaders, FillBatch: batch})
	var wg sync.WaitGroup
	for i := 1; i <= misses; i++ {
		wg.Go(func() {
			if got, want := get(t, s, inventory.ProductID(i)), fmt.Sprintf("%d:AMS=%d", i, i); got != want {
				t.Errorf("product %d: got %q, want %q", i, got, want)
			}
		})
	}
	waitFor(t, func() bool { return inFlight.Load() == loaders && queued(s)+int(idsInFlight.Load()) == misses })
	close(gate)
	wg.Wait()
	if p := peak.Load(); p > loaders {
		t.Fatalf("peak concurrent queries = %d, want at most %d", p, loaders)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, ids := range store.idsLoaded {
		if len(ids) > batch {
			t.Fatalf("a query asked for %d ids, over FillBatch %d", len(ids), batch)
		}
	}
	if c := store.calls.Load(); c > misses/batch+2*loaders {
		t.Fatalf("queries = %d for %d misses: they did not gather", c, misses)
	}
}

// The rules of fill.go hold per flight when flights share a query: a
// change consumed for one of them during the load is applied to it alone,
// and a flight whose mark the snapshot does not pass is retried without
// holding back the others.
func TestGatheredFlightsKeepTheirOwnRules(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	load, started, release := blockingLoad(func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		mu.Lock()
		calls++
		c := calls
		mu.Unlock()
		if c <= 2 { // the first two queries see the database at 100
			return staticLoad(pos(100), table(3))(ctx, ids)
		}
		after := table(3) // then it shows product 3's change at 200
		after[3] = []inventory.Stock{{Warehouse: 1, Qty: 33}}
		return staticLoad(pos(300), after)(ctx, ids)
	})
	store := &fakeStore{load: load}
	s := newTestService(t, store, Config{Loaders: 1})
	s.ApplyChange(stock(3, 1, 33, 200)) // product 3: consumed, not yet in snapshots

	var wg sync.WaitGroup
	got := make([]string, 4)
	wg.Go(func() { got[1] = get(t, s, 1) })
	<-started // the only loader holds product 1's query
	for _, id := range []int{2, 3} {
		wg.Go(func() { got[id] = get(t, s, inventory.ProductID(id)) })
	}
	waitFor(t, func() bool { return queued(s) == 2 })
	release <- struct{}{} // product 1's query
	<-started             // products 2 and 3, gathered into one query at 100
	s.ApplyChange(stock(2, 1, 22, 150))
	close(release)
	wg.Wait()
	if want := []string{"", "1:AMS=1", "2:AMS=22", "3:AMS=33"}; !slices.Equal(got, want) {
		t.Fatalf("answers = %q, want %q", got, want)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	want := [][]inventory.ProductID{{1}, {2, 3}, {3}} // only product 3 retried
	if len(store.idsLoaded) != 3 || !slices.Equal(store.idsLoaded[2], want[2]) || len(store.idsLoaded[1]) != 2 {
		t.Fatalf("queries = %v, want %v", store.idsLoaded, want)
	}
}

// queued returns how many flights wait for a loader.
func queued(s *Service) int {
	s.queue.mu.Lock()
	defer s.queue.mu.Unlock()
	return len(s.queue.ids)
}
