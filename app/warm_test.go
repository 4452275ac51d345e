package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// listIDs is a ProductLister over 1..n.
type listIDs int

func (n listIDs) ProductIDs(_ context.Context, after inventory.ProductID, limit int) ([]inventory.ProductID, error) {
	var out []inventory.ProductID
	for id := after + 1; id <= inventory.ProductID(n) && len(out) < limit; id++ {
		out = append(out, id)
	}
	return out, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestWarmAll(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), table(90))}
	s := newTestService(t, store, Config{})
	get(t, s, 5) // already cached: not loaded again
	var progress WarmProgress
	if err := s.Warm(context.Background(), listIDs(100), nil, WarmConfig{Chunk: 16}, &progress, quiet); err != nil {
		t.Fatal(err)
	}
	if !progress.Done.Load() || progress.Loaded.Load() != 100 {
		t.Fatalf("progress = %d, done %v; want 100, done", progress.Loaded.Load(), progress.Done.Load())
	}
	before := store.calls.Load()
	for id := 1; id <= 100; id++ {
		want := "error:not_found"
		if id <= 90 {
			want = fmt.Sprintf("%d:AMS=%d", id, id)
		}
		if got := get(t, s, inventory.ProductID(id)); got != want {
			t.Fatalf("product %d = %q, want %q", id, got, want)
		}
	}
	if n := store.calls.Load() - before; n != 0 {
		t.Fatalf("%d reads after the warm went to the database", n)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	for _, ids := range store.idsLoaded[1:] {
		if slices.Contains(ids, 5) {
			t.Fatalf("warm query %v: reloaded a cached product", ids)
		}
	}
}

func TestWarmFromIDsStopsWhenFull(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), table(100))}
	s := newTestService(t, store, Config{Loaders: 1})
	var progress WarmProgress
	ids := []inventory.ProductID{1, 1, 2, -3, 4, 5, 6, 7, 8, 9, 10}
	full := func() bool { return progress.Loaded.Load() >= 4 }
	if err := s.Warm(context.Background(), nil, ids, WarmConfig{Chunk: 4, Full: full}, &progress, quiet); err != nil {
		t.Fatal(err)
	}
	if got := progress.Loaded.Load(); got != 4 {
		t.Fatalf("loaded = %d, want the warm to stop at the first full check (4)", got)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if want := [][]inventory.ProductID{{1, 2}}; len(store.idsLoaded) != 1 || !slices.Equal(store.idsLoaded[0], want[0]) {
		t.Fatalf("queries = %v, want %v (duplicates and invalid ids dropped)", store.idsLoaded, want)
	}
}

// A warm chunk is a batch of misses: a change consumed while it loads is
// applied on top of it, and a change consumed before it for a product the
// chunk's snapshot does not show yet makes that product wait for a later
// snapshot.
func TestWarmRacesChanges(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	load, started, release := blockingLoad(func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		mu.Lock()
		calls++
		c := calls
		mu.Unlock()
		if c == 1 {
			return staticLoad(pos(100), table(3))(ctx, ids)
		}
		after := table(3)
		after[3] = []inventory.Stock{{Warehouse: 1, Qty: 33}}
		return staticLoad(pos(300), after)(ctx, ids)
	})
	s := newTestService(t, &fakeStore{load: load}, Config{})
	s.ApplyChange(stock(3, 1, 33, 200)) // consumed before the warm, not yet in snapshots
	var progress WarmProgress
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Warm(context.Background(), listIDs(3), nil, WarmConfig{}, &progress, quiet); err != nil {
			t.Error(err)
		}
	})
	<-started // the chunk's snapshot is read at 100
	s.ApplyChange(stock(2, 1, 22, 150))
	close(release)
	wg.Wait()
	if got := []string{get(t, s, 1), get(t, s, 2), get(t, s, 3)}; !slices.Equal(got, []string{"1:AMS=1", "2:AMS=22", "3:AMS=33"}) {
		t.Fatalf("after the warm: %q", got)
	}
}

// A node is not ready while it warms, and says so with ErrWarming; the
// warm's end, complete or not, makes it ready (as far as warming goes).
func TestWarmingReadiness(t *testing.T) {
	parts := &fakeParts{started: true}
	var progress WarmProgress
	f := mustFreshness(t, FreshnessConfig{MaxStaleness: time.Second}, FreshnessParts{Service: parts, Database: parts, Warm: &progress})
	progress.Loaded.Store(42)
	err := f.Ready(context.Background())
	if !errors.Is(err, ErrWarming) || !strings.Contains(err.Error(), "42 products") {
		t.Fatalf("Ready while warming: %v, want ErrWarming with the progress", err)
	}
	parts.started = false
	if err := f.Ready(context.Background()); err == nil || errors.Is(err, ErrWarming) {
		t.Fatalf("Ready before the directory is loaded: %v, want the directory as the reason", err)
	}
	parts.started = true
	progress.finish()
	if err := f.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after the warm: %v", err)
	}
	if progress.Elapsed() != 0 {
		t.Fatalf("Elapsed of a warm that never began = %v", progress.Elapsed())
	}
}

// A warm with a context that ends stops, reports the context's error and
// still ends (Done), so the node becomes ready with what it loaded.
func TestWarmTimeout(t *testing.T) {
	load, started, release := blockingLoad(staticLoad(pos(100), table(100)))
	defer close(release)
	s := newTestService(t, &fakeStore{load: load}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var progress WarmProgress
	done := make(chan error, 1)
	go func() { done <- s.Warm(ctx, nil, []inventory.ProductID{1, 2, 3}, WarmConfig{}, &progress, quiet) }()
	<-started
	if progress.Done.Load() || progress.Target.Load() != 3 {
		t.Fatalf("during the warm: done %v, target %d", progress.Done.Load(), progress.Target.Load())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Warm after its context ended: %v", err)
	}
	if !progress.Done.Load() || progress.Elapsed() <= 0 {
		t.Fatalf("progress after the warm: done %v, elapsed %v", progress.Done.Load(), progress.Elapsed())
	}
}

// A warm with a rate loads no faster than it: the chunk of products n..n+9
// starts no earlier than n/rate after the warm began. (Only the lower bound
// is asserted: a loaded machine can only make it slower.)
func TestWarmRate(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), table(100))}
	s := newTestService(t, store, Config{})
	const rate = 500.0
	var progress WarmProgress
	start := time.Now()
	if err := s.Warm(context.Background(), listIDs(100), nil, WarmConfig{Chunk: 10, Rate: rate}, &progress, quiet); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if progress.Loaded.Load() != 100 {
		t.Fatalf("loaded %d products, want 100", progress.Loaded.Load())
	}
	// The last chunk (products 91..100) is due after 90 products.
	if min := time.Duration(90 / rate * float64(time.Second)); took < min {
		t.Fatalf("100 products at %v/s took %v, want at least %v", rate, took, min)
	}
}

// A paced warm ends when its context does, without waiting for its pace.
func TestWarmRateStopsWithContext(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), table(100))}
	s := newTestService(t, store, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var progress WarmProgress
	done := make(chan error, 1)
	go func() {
		done <- s.Warm(ctx, listIDs(100), nil, WarmConfig{Chunk: 10, Rate: 0.001}, &progress, quiet)
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a paced warm did not end with its context")
	}
	if !progress.Done.Load() {
		t.Fatal("progress not marked done")
	}
}
