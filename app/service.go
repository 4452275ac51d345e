package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// Config tunes a Service. The zero value of each field selects its default.
type Config struct {
	// MaxBatch is the largest number of ids one batch read may ask for
	// (default 1000).
	MaxBatch int
	// LoadTimeout bounds one database load, whoever waits for it (default
	// 2s). Waiters stop waiting when their own context ends, earlier.
	LoadTimeout time.Duration
	// SnapshotRetries is how many times a load is retried when the
	// database's snapshot is older than a change this node already consumed
	// for the key (default 20, about 0.75 s of backoff). See
	// docs/consistency.md, "the commit window". After that, the read is
	// answered from the last snapshot, uncached and marked stale.
	SnapshotRetries int
	// Loaders bounds the database queries that fills run at once (default
	// 8). Misses that arrive while a load runs gather and are loaded
	// together; a further loader starts only for FillBatch waiting ids
	// (fill.go). Keep it at or below the store's connection pool.
	Loaders int
	// FillBatch is the most ids one fill query asks for (default 500).
	FillBatch int
	// FillFailAfter is how long database loads must have failed, with no
	// success since, before FillProblem reports it (default 1s).
	FillFailAfter time.Duration
	// UpkeepEvery is the period of Run's upkeep (default 1s).
	UpkeepEvery time.Duration
	// RefreshGrace is how long a directory reload waits for a snapshot
	// after everything consumed before it takes the latest snapshot anyway
	// (default 2s; see RefreshDirectory).
	RefreshGrace time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1000
	}
	if c.LoadTimeout <= 0 {
		c.LoadTimeout = 2 * time.Second
	}
	if c.SnapshotRetries <= 0 {
		c.SnapshotRetries = 20
	}
	if c.Loaders <= 0 {
		c.Loaders = 8
	}
	if c.FillBatch <= 0 {
		c.FillBatch = 500
	}
	if c.FillFailAfter <= 0 {
		c.FillFailAfter = time.Second
	}
	if c.UpkeepEvery <= 0 {
		c.UpkeepEvery = time.Second
	}
	if c.RefreshGrace <= 0 {
		c.RefreshGrace = 2 * time.Second
	}
}

// stripes is the number of per-key lock stripes. Each serialises the
// writers (fills and changes) of the keys hashed to it, never the hit path.
const (
	stripeBits = 10
	stripes    = 1 << stripeBits
)

// Service reads product inventory through the cache and applies the change
// stream to it. It is safe for concurrent use. Hits take no lock of the
// Service's own; misses and changes to one key are serialised by that key's
// stripe.
type Service struct {
	store     Store
	cache     Cache
	renderers []Renderer
	cfg       Config
	log       *slog.Logger

	// dir is the current warehouse directory; nil until Start loaded it.
	// Replaced (never mutated) by the change path.
	dir atomic.Pointer[inventory.Directory]

	// startMu protects early: warehouse changes consumed before Start has
	// stored the directory. Start applies them on top of what it loaded, so
	// a change committed after the load's snapshot but consumed before the
	// directory was stored is not lost.
	startMu sync.Mutex
	early   []func(*inventory.Directory) *inventory.Directory

	// highMu protects high: the latest stream position of any change this
	// node has consumed. Only invalidations use it: a record that cannot be
	// decoded has no position of its own, so fills after it must be after
	// everything consumed so far (see Invalidate).
	highMu sync.Mutex
	high   inventory.Position

	// dirMu protects dirPending, dirSince and dirNeed: a directory reload
	// is pending since dirSince, and must read a snapshot after dirNeed
	// (see RefreshDirectory). dirStale (atomic) is set while one is
	// pending, for the read path to mark answers stale.
	dirMu      sync.Mutex
	dirPending bool
	dirSince   time.Time // when the pending reload was asked for
	dirNeed    inventory.Position
	dirStale   atomic.Bool

	stripes [stripes]stripe
	marks   markBook   // what the per-key marks share (marks.go)
	health  fillHealth // whether database loads are failing

	queue fillQueue // flights waiting for a loader (fill.go)
	// loads tracks the loader goroutines, so Close can wait for them.
	loads sync.WaitGroup

	stats Stats
}

// stripe serialises the fills and changes of the keys hashed to it.
type stripe struct {
	mu      sync.Mutex
	flights map[inventory.ProductID]*flight // guarded by mu
	marks   map[inventory.ProductID]mark    // guarded by mu; see marks.go
}

// Stats are the Service's counters, read with atomic loads.
type Stats struct {
	Hits           atomic.Uint64 // reads answered from the cache, product found
	NegativeHits   atomic.Uint64 // reads answered from the cache, product unknown
	Misses         atomic.Uint64 // reads that had to wait for a database load
	Coalesced      atomic.Uint64 // misses that joined a load another read started
	Loads          atomic.Uint64 // database loads (one per batch of misses)
	LoadErrors     atomic.Uint64 // database loads that failed or panicked
	SnapshotRetry  atomic.Uint64 // loads retried because the snapshot was behind the stream
	UnsafeFills    atomic.Uint64 // fills answered uncached and stale: the snapshot stayed behind the stream
	Invalidations  atomic.Uint64 // Invalidate and InvalidateAll calls
	Rerenders      atomic.Uint64 // entries re-rendered after a warehouse change
	ChangesApplied atomic.Uint64 // changes that altered a cached entry or the directory
	ChangesIgnored atomic.Uint64 // changes for uncached products or already reflected
	CorruptEntries atomic.Uint64 // cache entries that failed to decode (dropped)
	OversizeSkips  atomic.Uint64 // entries the cache refused to store
}

// New returns a Service. Call Start before serving reads.
func New(store Store, cache Cache, renderers []Renderer, cfg Config, log *slog.Logger) *Service {
	cfg.setDefaults()
	return &Service{store: store, cache: cache, renderers: renderers, cfg: cfg, log: log}
}

// Stats returns the Service's counters.
func (s *Service) Stats() *Stats { return &s.stats }

// Start loads the warehouse directory. Reads fail with CodeUnavailable until
// it succeeds. Call it after the change consumer has chosen its start
// offsets, so that no warehouse change after the snapshot can be missed.
func (s *Service) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LoadTimeout)
	defer cancel()
	ws, pos, err := s.store.LoadWarehouses(ctx)
	if err != nil {
		return fmt.Errorf("load warehouses: %w", err)
	}
	s.startMu.Lock()
	defer s.startMu.Unlock()
	nd := inventory.NewDirectory(pos, ws)
	for _, apply := range s.early { // the version rule drops those in the snapshot
		nd = apply(nd)
	}
	s.early = nil
	s.dir.Store(nd)
	s.log.Info("warehouse directory loaded", "warehouses", nd.Len(), "position", pos.String())
	return nil
}

// StartRetrying is Start for a node coming up: it waits for attached to
// close (the change consumer has joined the stream, so no warehouse change
// after the directory's snapshot can be missed; nil: do not wait), then
// calls Start until it succeeds, every retry apart, logging the failure
// on the first attempt and every tenth after it. It returns once started,
// or when ctx ends first (Started tells which).
func (s *Service) StartRetrying(ctx context.Context, attached <-chan struct{}, retry time.Duration) {
	if attached != nil {
		select {
		case <-attached:
		case <-ctx.Done():
			return
		}
	}
	t := time.NewTicker(retry)
	defer t.Stop()
	for attempt := 0; ; attempt++ {
		err := s.Start(ctx)
		if err == nil {
			return
		}
		if attempt%10 == 0 {
			s.log.Warn("cannot load the warehouse directory yet; retrying", "err", err, "attempt", attempt+1)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Started reports whether the directory is loaded.
func (s *Service) Started() bool { return s.dir.Load() != nil }

// Close waits for the load goroutines to finish.
func (s *Service) Close() { s.loads.Wait() }

func (s *Service) stripe(id inventory.ProductID) *stripe {
	// Fibonacci hashing spreads sequential ids over the stripes.
	return &s.stripes[(uint64(id)*0x9E3779B97F4A7C15)>>(64-stripeBits)]
}

// raiseHigh records that a change at pos has been consumed.
func (s *Service) raiseHigh(pos inventory.Position) {
	s.highMu.Lock()
	s.high = s.high.Max(pos)
	s.highMu.Unlock()
}

func (s *Service) highMark() inventory.Position {
	s.highMu.Lock()
	defer s.highMu.Unlock()
	return s.high
}
