package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

func TestGetHitMissNegative(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 2, Qty: 5}, {Warehouse: 1, Qty: 3}, {Warehouse: 3, Qty: 9}},
		2: {{Warehouse: 3, Qty: 1}}, // only in an inactive warehouse
	})}
	s := newTestService(t, store, Config{})
	tests := []struct {
		id   inventory.ProductID
		want string
	}{
		{1, "1:AMS=3,BER=5"},
		{2, "2:"},
		{3, "error:not_found"},
		{0, "error:invalid"},
		{-4, "error:invalid"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.id), func(t *testing.T) {
			for round := range 2 { // a miss, then a hit
				if got := get(t, s, tc.id); got != tc.want {
					t.Errorf("round %d: Get(%d) = %q, want %q", round, tc.id, got, tc.want)
				}
			}
		})
	}
	if n := store.calls.Load(); n != 3 {
		t.Errorf("store loads = %d, want 3 (one per valid id, then hits)", n)
	}
	if s.stats.NegativeHits.Load() != 1 || s.stats.Hits.Load() != 2 {
		t.Errorf("hits = %d, negative hits = %d, want 2 and 1", s.stats.Hits.Load(), s.stats.NegativeHits.Load())
	}
}

func TestGetAppendsToDst(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 3}}})}
	s := newTestService(t, store, Config{})
	for range 2 { // miss, then hit
		b, _, err := s.Get(context.Background(), 1, 0, []byte("pre|"))
		if err != nil || string(b) != "pre|1:AMS=3" {
			t.Fatalf("Get = %q, %v", b, err)
		}
	}
}

// blockingLoad returns a load function that waits for release, and a
// channel that receives once per load call when it starts.
func blockingLoad(inner func(context.Context, []inventory.ProductID) (Snapshot, error)) (load func(context.Context, []inventory.ProductID) (Snapshot, error), started chan struct{}, release chan struct{}) {
	started, release = make(chan struct{}, 100), make(chan struct{})
	return func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
		started <- struct{}{}
		<-release
		return inner(ctx, ids)
	}, started, release
}

func TestCoalescing(t *testing.T) {
	load, started, release := blockingLoad(staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{7: {{Warehouse: 1, Qty: 1}}}))
	store := &fakeStore{load: load}
	s := newTestService(t, store, Config{})
	const n = 1000
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		wg.Go(func() { results[i] = get(t, s, 7) })
	}
	<-started
	// Wait until every reader is either waiting on the flight or done.
	waitFor(t, func() bool { return s.stats.Misses.Load() == n })
	close(release)
	wg.Wait()
	for i, r := range results {
		if r != "7:AMS=1" {
			t.Fatalf("reader %d got %q", i, r)
		}
	}
	if c := store.calls.Load(); c != 1 {
		t.Fatalf("loads = %d, want 1", c)
	}
}

func TestWaiterDeadline(t *testing.T) {
	load, started, release := blockingLoad(staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{7: {{Warehouse: 1, Qty: 1}}}))
	s := newTestService(t, &fakeStore{load: load}, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err := s.Get(ctx, 7, 0, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	<-started
	close(release)
	// The slow load still completes and is installed for later readers.
	waitFor(t, func() bool { return get(t, s, 7) == "7:AMS=1" })
}

func TestLoadErrorAndPanicReachEveryWaiter(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func()
		want inventory.Code
	}{
		{"error", func() {}, inventory.CodeUnavailable},
		{"panic", func() { panic("boom") }, inventory.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			fail := true
			var mu sync.Mutex
			store := &fakeStore{load: func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
				<-release
				mu.Lock()
				defer mu.Unlock()
				if fail {
					tc.fail()
					return Snapshot{}, inventory.Errorf(inventory.CodeUnavailable, "db down")
				}
				return staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{7: {{Warehouse: 1, Qty: 1}}})(ctx, ids)
			}}
			s := newTestService(t, store, Config{})
			var wg sync.WaitGroup
			codes := make([]inventory.Code, 50)
			for i := range codes {
				wg.Go(func() {
					_, _, err := s.Get(context.Background(), 7, 0, nil)
					codes[i] = inventory.ErrorCode(err)
				})
			}
			waitFor(t, func() bool { return s.stats.Misses.Load() == 50 })
			close(release)
			wg.Wait()
			for i, c := range codes {
				if c != tc.want {
					t.Fatalf("waiter %d: code %v, want %v", i, c, tc.want)
				}
			}
			// Not cached: the next read loads again, and succeeds.
			mu.Lock()
			fail = false
			mu.Unlock()
			if got := get(t, s, 7); got != "7:AMS=1" {
				t.Fatalf("after failure Get = %q", got)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 1, Qty: 1}}, 2: {{Warehouse: 2, Qty: 2}}, 4: {{Warehouse: 1, Qty: 4}},
	})}
	s := newTestService(t, store, Config{MaxBatch: 5})
	get(t, s, 1) // cached before the batch
	res, err := s.GetBatch(context.Background(), []inventory.ProductID{4, 1, 3, 2, 4}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, b := range res.Bodies {
		bodies = append(bodies, string(b))
	}
	if want := []string{"4:AMS=4", "1:AMS=1", "2:BER=2"}; !equal(bodies, want) {
		t.Errorf("bodies = %q, want %q", bodies, want)
	}
	if len(res.NotFound) != 1 || res.NotFound[0] != 3 {
		t.Errorf("not found = %v, want [3]", res.NotFound)
	}
	// One load for all three misses.
	if c := store.calls.Load(); c != 2 {
		t.Errorf("loads = %d, want 2 (the single read, then one for the batch)", c)
	}
	if got := store.idsLoaded[1]; len(got) != 3 {
		t.Errorf("batch load ids = %v, want 3 ids", got)
	}
	for _, tc := range []struct {
		name string
		ids  []inventory.ProductID
	}{
		{"empty", nil},
		{"oversized", []inventory.ProductID{1, 2, 3, 4, 5, 6}},
		{"invalid id", []inventory.ProductID{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.GetBatch(context.Background(), tc.ids, 0); inventory.ErrorCode(err) != inventory.CodeInvalid {
				t.Errorf("err = %v, want invalid", err)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// A cache entry that does not decode is dropped and the product loaded
// again; a hit appends the body, and only the body, after dst.
func TestHitReadsTheBodyAndDropsCorruptEntries(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), map[inventory.ProductID][]inventory.Stock{
		1: {{Warehouse: 1, Qty: 5}},
	})}
	s := newTestService(t, store, Config{})
	want := get(t, s, 1)
	b, _, err := s.Get(context.Background(), 1, 0, []byte("prefix:"))
	if err != nil || string(b) != "prefix:"+want {
		t.Fatalf("hit = %q, %v; want %q", b, err, "prefix:"+want)
	}
	if err := s.cache.Set(1, []byte{0xff, 0, 1}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, 1); got != want {
		t.Fatalf("read over a corrupt entry = %q, want %q", got, want)
	}
	if c, l := s.Stats().CorruptEntries.Load(), store.calls.Load(); c != 1 || l != 2 {
		t.Fatalf("corrupt entries %d, loads %d; want 1 and 2 (the fill, the reload)", c, l)
	}
}

// A starting node waits for its consumer to attach, then retries the
// directory's load until the database answers; a node told to stop while
// it waits returns without being started.
func TestStartRetrying(t *testing.T) {
	store := &attachCheckStore{
		fakeStore: &fakeStore{warehouses: testWarehouses, warehousesErr: errors.New("database unreachable")},
		attached:  make(chan struct{}),
	}
	s := New(store, newMapCache(), []Renderer{textRenderer{}}, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { defer close(done); s.StartRetrying(context.Background(), store.attached, time.Millisecond) }()
	runtime.Gosched() // give a load before the attach its chance to show
	close(store.attached)
	waitFor(t, func() bool { return store.warehouseLoads.Load() >= 3 })
	if s.Started() {
		t.Fatal("started while the database failed")
	}
	store.mu.Lock()
	store.warehousesErr = nil
	store.mu.Unlock()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("StartRetrying did not return once the database answered")
	}
	if !s.Started() {
		t.Fatal("returned without being started")
	}
	if n := store.early.Load(); n != 0 {
		t.Fatalf("%d directory loads before the consumer attached, want 0", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	idle := New(store, newMapCache(), []Renderer{textRenderer{}}, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	idle.StartRetrying(ctx, make(chan struct{}), time.Millisecond)
	if idle.Started() {
		t.Fatal("a node stopped while waiting for its consumer was started")
	}
}

// attachCheckStore counts the directory loads made before attached closed.
type attachCheckStore struct {
	*fakeStore
	attached chan struct{}
	early    atomic.Int64
}

func (a *attachCheckStore) LoadWarehouses(ctx context.Context) ([]inventory.Warehouse, inventory.Position, error) {
	select {
	case <-a.attached:
	default:
		a.early.Add(1)
	}
	return a.fakeStore.LoadWarehouses(ctx)
}
