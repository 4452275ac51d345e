package app

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// Misses that one query can take wait for the running one rather than
// start another loader: each snapshot query has a fixed price on the
// database, so they gather even while loaders are free. A full query's
// worth of waiting misses does start another loader.
func TestLoaderStartsOnlyForAFullBatch(t *testing.T) {
	const batch = 20
	load, started, release := blockingLoad(staticLoad(pos(100), table(100)))
	store := &fakeStore{load: load}
	s := newTestService(t, store, Config{Loaders: 4, FillBatch: batch})
	var wg sync.WaitGroup
	results := make([]string, 100)
	wg.Go(func() { results[99] = get(t, s, 100) })
	<-started // one query runs, for product 100 alone
	for i := 1; i < batch; i++ {
		wg.Go(func() { results[i-1] = get(t, s, inventory.ProductID(i)) })
	}
	waitFor(t, func() bool { return queued(s) == batch-1 })
	if n := len(started); n != 0 {
		t.Fatalf("%d more queries started for %d waiting misses, under a full batch of %d", n, batch-1, batch)
	}
	// One more miss makes a full batch: a second loader takes it at once.
	wg.Go(func() { results[batch-1] = get(t, s, batch) })
	<-started
	close(release)
	wg.Wait()
	for _, i := range append(seq(1, batch), 100) {
		if want := fmt.Sprintf("%d:AMS=%d", i, i); results[i-1] != want {
			t.Fatalf("product %d: got %q, want %q", i, results[i-1], want)
		}
	}
	if c := store.calls.Load(); c != 2 {
		t.Fatalf("queries = %d, want 2 (the lone miss, then the %d gathered)", c, batch)
	}
	if n := len(store.idsLoaded[1]); n != batch {
		t.Fatalf("second query asked for %d ids, want %d", n, batch)
	}
}

func seq(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// A loader that waits out a retry's backoff hands the queue to a free
// loader: a miss that arrives meanwhile is not held up by another key's
// retries.
func TestRetryingLoaderHandsOffTheQueue(t *testing.T) {
	store := &fakeStore{load: staticLoad(pos(100), table(3))}
	// 30 retries with backoffs growing to 50 ms: product 1's fill retries
	// for over a second.
	s := newTestService(t, store, Config{Loaders: 2, SnapshotRetries: 30, LoadTimeout: time.Minute})
	s.ApplyChange(stock(1, 1, 11, 200)) // consumed, never in a snapshot at 100: product 1's fill retries
	done1 := make(chan string, 1)
	go func() { done1 <- get(t, s, 1) }()
	waitFor(t, func() bool { return s.stats.SnapshotRetry.Load() >= 1 })
	if got := get(t, s, 2); got != "2:AMS=2" {
		t.Fatalf("product 2 = %q", got)
	}
	if n := s.stats.SnapshotRetry.Load(); n >= 30 {
		t.Fatalf("product 2 was answered only after product 1's %d retries", n)
	}
	if got := <-done1; got != "stale|1:AMS=1" {
		t.Fatalf("product 1 = %q, want its uncached answer marked stale", got)
	}
}
