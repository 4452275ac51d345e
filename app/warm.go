package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// ProductLister pages through the products the database holds, in id
// order (keyset pagination: each page is its own short query).
type ProductLister interface {
	// ProductIDs returns up to limit product ids greater than after, in
	// increasing order; fewer than limit means there are no more.
	ProductIDs(ctx context.Context, after inventory.ProductID, limit int) ([]inventory.ProductID, error)
}

// WarmConfig tunes Warm.
type WarmConfig struct {
	// Chunk is the number of products per fill query (default the
	// Service's FillBatch).
	Chunk int
	// ListPage is the number of product ids one listing query returns
	// (default 20 chunks). Listing is one query at a time, so its pages are
	// larger than the chunks: with a page per chunk, the round trips of
	// the listing, not the loads, would set the pace.
	ListPage int
	// Full reports whether the cache has reached its byte bound (nil:
	// never); warming stops there rather than evict what it loaded.
	Full func() bool
	// LogEvery is the period of the progress log line (default 5s).
	LogEvery time.Duration
	// Rate bounds the products loaded per second (0: as fast as the
	// loaders go). A warm that must not crowd a shared database, or the
	// peers of a node sharing its host, trades its length for this.
	Rate float64
}

// WarmProgress is how far a warm has got. It is safe for concurrent use.
type WarmProgress struct {
	Loaded atomic.Int64 // products read into the cache (found or not), already cached ones included
	Target atomic.Int64 // products to read when known (a list of ids), else 0
	Done   atomic.Bool  // the warm has ended, complete or not
	begun  atomic.Int64 // UnixNano when Warm began, 0 before
	ended  atomic.Int64 // UnixNano when it ended, 0 before
}

// Elapsed returns how long the warm has run, or ran: 0 before it began.
func (p *WarmProgress) Elapsed() time.Duration {
	b := p.begun.Load()
	if b == 0 {
		return 0
	}
	e := p.ended.Load()
	if e == 0 {
		return time.Since(time.Unix(0, b))
	}
	return time.Duration(e - b)
}

// finish marks the warm ended.
func (p *WarmProgress) finish() {
	p.ended.Store(time.Now().UnixNano())
	p.Done.Store(true)
}

// Warm loads products into the cache before the node takes traffic: every
// product the lister pages through, or, with a nil lister, the ids given.
// Each chunk is an ordinary batch of misses (await): its flights load in
// one consistent snapshot with its own position and install by the rules
// of fill.go, so a change consumed during the warm is applied on top of
// the chunk or makes it wait for a later snapshot, exactly as for a read.
// Products already cached are skipped. It stops at the cache's byte bound,
// when ctx ends, or at the first failed chunk (returning its error), and
// marks progress Done in every case.
func (s *Service) Warm(ctx context.Context, lister ProductLister, ids []inventory.ProductID, cfg WarmConfig, progress *WarmProgress, log *slog.Logger) error {
	progress.begun.CompareAndSwap(0, time.Now().UnixNano())
	defer progress.finish()
	if !s.Started() {
		return errors.New("warm: the warehouse directory is not loaded yet (call Start first)")
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = s.cfg.FillBatch
	}
	if cfg.ListPage < cfg.Chunk {
		cfg.ListPage = 20 * cfg.Chunk
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = 5 * time.Second
	}
	if cfg.Full == nil {
		cfg.Full = func() bool { return false }
	}
	if lister == nil {
		progress.Target.Store(int64(len(ids)))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The lister runs ahead of the loads by a page, so that a loader that
	// is done finds its next chunk waiting.
	chunks := make(chan []inventory.ProductID, cfg.ListPage/cfg.Chunk+s.cfg.Loaders)
	var listErr error
	go func() {
		defer close(chunks)
		listErr = pageIDs(ctx, lister, ids, cfg.Chunk, cfg.ListPage, chunks)
	}()

	start := time.Now()
	tick := time.NewTicker(cfg.LogEvery)
	defer tick.Stop()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	var claimed atomic.Int64 // products handed to loaders, for the pace
	pace := func(n int) error {
		if cfg.Rate <= 0 {
			return nil
		}
		// A chunk may start once the products before it are due.
		due := start.Add(time.Duration(float64(claimed.Add(int64(n))-int64(n)) / cfg.Rate * float64(time.Second)))
		return sleepUntil(ctx, due)
	}
	for range s.cfg.Loaders { // as many chunks in flight as fill queries may run
		wg.Go(func() {
			for chunk := range chunks {
				if cfg.Full() {
					fail(errCacheFull)
					return
				}
				if err := pace(len(chunk)); err != nil {
					return // ctx ended: its cause is reported below
				}
				if _, err := s.await(ctx, validDistinct(chunk)); err != nil {
					fail(fmt.Errorf("warm products %d…%d: %w", int64(chunk[0]), int64(chunk[len(chunk)-1]), err))
					return
				}
				progress.Loaded.Add(int64(len(chunk)))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			logProgress(log, "warming the cache", progress, start)
		}
	}
	cancel()
	for range chunks { // let the lister finish
	}
	err := firstErr
	if err == nil && listErr != nil && ctx.Err() == nil {
		err = listErr
	}
	switch {
	case errors.Is(err, errCacheFull):
		logProgress(log, "cache warm stopped at the cache's byte bound", progress, start)
		return nil
	case err != nil:
		return err
	}
	logProgress(log, "cache warm done", progress, start)
	return nil
}

// logProgress logs how far the warm has got: products loaded, their rate
// and the time spent, and the target when it is known.
func logProgress(log *slog.Logger, msg string, progress *WarmProgress, start time.Time) {
	n, elapsed := progress.Loaded.Load(), time.Since(start)
	attrs := []any{"products", n, "per_second", int64(float64(n) / max(elapsed.Seconds(), 1e-3)), "elapsed", elapsed.Round(time.Millisecond).String()}
	if t := progress.Target.Load(); t > 0 {
		attrs = append(attrs, "target", t)
	}
	log.Info(msg, attrs...)
}

var errCacheFull = errors.New("cache full")

// pageIDs sends ids, or the lister's pages of page ids, in chunks of n
// until done or ctx ends.
func pageIDs(ctx context.Context, lister ProductLister, ids []inventory.ProductID, n, page int, out chan<- []inventory.ProductID) error {
	send := func(ids []inventory.ProductID) bool {
		for len(ids) > 0 {
			k := min(n, len(ids))
			select {
			case out <- ids[:k:k]:
			case <-ctx.Done():
				return false
			}
			ids = ids[k:]
		}
		return true
	}
	if lister == nil {
		send(ids)
		return nil
	}
	var after inventory.ProductID
	for {
		got, err := lister.ProductIDs(ctx, after, page)
		if err != nil {
			return fmt.Errorf("list products after %d: %w", int64(after), err)
		}
		if !send(got) || len(got) < page {
			return nil
		}
		after = got[len(got)-1]
	}
}

// validDistinct returns the distinct valid ids of chunk. Those already
// cached are skipped by await, which looks each id up under its stripe
// lock anyway: a second look here would cost a warm of an empty cache a
// lookup per product for nothing.
func validDistinct(chunk []inventory.ProductID) []inventory.ProductID {
	out := chunk[:0:0]
	for _, id := range dedup(chunk) {
		if id.Validate() == nil {
			out = append(out, id)
		}
	}
	return out
}

// sleepUntil waits until t or until ctx ends (its error).
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
