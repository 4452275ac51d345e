package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/gintoki/gintoki/inventory"
)

// This file is the fill machinery: a miss registers a flight, one goroutine
// loads the flights it started from the database in one consistent
// snapshot, and each flight is installed — or, when that cannot be made
// safe, answered without being cached.
//
// A fill races with the change stream. The snapshot is read at one moment;
// changes to the same rows are committed and consumed around it. Three
// rules keep a fill from ever installing a value older than a change the
// node has consumed (docs/consistency.md has the full walk-through and the
// tests that force each interleaving):
//
//  1. A change consumed while the key's flight is registered is appended to
//     the flight's pending list, under the key's stripe lock; the install,
//     under the same lock, applies pending on top of the snapshot by the
//     version rule (finish).
//  2. A change consumed before the flight was registered either has
//     reached the cache entry (and the flight exists only because the entry
//     was gone since), or was dropped because the key had neither entry nor
//     flight. Either way the change raised the key's mark, under the stripe
//     lock, before the flight could read it (Service.applyStock), and the
//     flight only installs a snapshot that is after its mark (fillFlights). That
//     covers the commit window: the binlog is written before the engine
//     makes the commit visible, so a change can be consumed before a new
//     snapshot shows it.
//  3. A snapshot that stays behind the mark is retried briefly, then
//     answered uncached and marked stale. The mark is per key, so a change
//     whose position the database never reaches (a second connector, a
//     restored backup) degrades that key alone, never the fills of others.

// flight is one database load of one key in progress. Reads that miss the
// same key while it is in flight wait for it instead of loading again.
type flight struct {
	done chan struct{} // closed when entry, stale and err are set
	// need is the position the snapshot must be after: the key's mark (and
	// the node's floor) when the flight was registered (rule 2).
	need inventory.Position
	// hopeless is set when an earlier fill of the key already gave up on
	// the same mark: the load then tries once instead of waiting again.
	hopeless bool

	pending     []inventory.Change // guarded by the stripe's mu (rule 1)
	invalidated bool               // guarded by the stripe's mu: see Service.Invalidate

	entry []byte // the entry answered; set before done is closed
	stale bool   // entry was not installed: it may miss a consumed change
	err   error  // set before done is closed
}

func doneFlight(e []byte) *flight {
	f := &flight{done: make(chan struct{}), entry: e}
	close(f.done)
	return f
}

// await joins or starts the flights of ids (distinct) and waits for all of
// them, or for ctx. Flights it starts are loaded together, in one query, by
// a goroutine of the Service's that does not depend on ctx.
func (s *Service) await(ctx context.Context, ids []inventory.ProductID) ([]*flight, error) {
	fs := make([]*flight, len(ids))
	var mine []inventory.ProductID
	var mineFs []*flight
	for i, id := range ids {
		st := s.stripe(id)
		st.mu.Lock()
		if f, ok := st.flights[id]; ok {
			st.mu.Unlock()
			fs[i] = f
			s.stats.Coalesced.Add(1)
			continue
		}
		// Re-check under the lock: a fill may have installed the entry since
		// the caller's miss, and its flight is then gone.
		if e, ok := s.cache.Get(nil, id); ok {
			st.mu.Unlock()
			fs[i] = doneFlight(e)
			continue
		}
		// Rule 2: the mark is read under the stripe lock, which every change
		// to the key raises it under; the floor too, which a truncate or
		// InvalidateAll raises while holding every stripe lock. So a change
		// either raised them before this read, or finds the flight
		// registered and goes into pending (or invalidates it).
		f := &flight{done: make(chan struct{})}
		f.need, f.hopeless = s.marks.floor().need(st.marks[id])
		if st.flights == nil {
			st.flights = make(map[inventory.ProductID]*flight)
		}
		st.flights[id] = f
		st.mu.Unlock()
		fs[i] = f
		mine, mineFs = append(mine, id), append(mineFs, f)
	}
	if len(mine) > 0 {
		s.queue.add(s, mine, mineFs)
	}
	for _, f := range fs {
		select {
		case <-f.done:
			if f.err != nil {
				return nil, f.err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return fs, nil
}

// fillQueue gathers the flights waiting for a database load, group-commit
// style: a miss that finds no load running is loaded at once, alone; misses
// that arrive while a load runs gather, and the next free loader takes all
// of them (up to Config.FillBatch) as one snapshot query. So a burst of
// misses of different keys costs few queries, never more than
// Config.Loaders at once, and a lone miss waits for no timer.
//
// A further loader starts only when a full query's worth (FillBatch ids)
// is waiting: each snapshot query pays a fixed price on the database (the
// snapshot and the read of its binlog position, which MariaDB serialises),
// so misses that one query can take are cheaper gathered into it than
// split across concurrent ones. Measured on the cold phase of
// cmd/gintoki-bench (64 concurrent random misses over 1M products): one
// query at a time carried about 29 ids and served 1.0–1.3× the naive
// server, eight at a time carried about 5 ids and served 0.6–0.7×. Larger
// backlogs (a warm start, batch reads) still use every loader, and a loader
// that waits out a retry's backoff hands the queue on (handOff).
type fillQueue struct {
	mu      sync.Mutex // protects the fields below
	ids     []inventory.ProductID
	fs      []*flight
	running int // loader goroutines
}

// add queues flights fs (of ids) and starts a loader if one is free.
func (q *fillQueue) add(s *Service, ids []inventory.ProductID, fs []*flight) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ids, q.fs = append(q.ids, ids...), append(q.fs, fs...)
	if q.running == 0 || q.running < s.cfg.Loaders && len(q.ids) >= s.cfg.FillBatch {
		q.running++
		s.loads.Add(1)
		go s.loader()
	}
}

// handOff starts another loader if misses are queued and one is free: a
// loader about to wait out a retry's backoff calls it, so that the misses
// that gathered behind its query do not wait for its retries too.
func (q *fillQueue) handOff(s *Service) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ids) > 0 && q.running < s.cfg.Loaders {
		q.running++
		s.loads.Add(1)
		go s.loader()
	}
}

// take removes up to n queued flights; ok is false (and the caller's
// loader is counted out) when none are queued.
func (q *fillQueue) take(n int) (ids []inventory.ProductID, fs []*flight, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ids) == 0 {
		q.running--
		return nil, nil, false
	}
	n = min(n, len(q.ids))
	ids, fs = q.ids[:n:n], q.fs[:n:n]
	q.ids, q.fs = q.ids[n:], q.fs[n:]
	if len(q.ids) == 0 {
		q.ids, q.fs = nil, nil // let the backing arrays go
	}
	return ids, fs, true
}

// loader loads queued flights until none are left.
func (s *Service) loader() {
	defer s.loads.Done()
	for {
		ids, fs, ok := s.queue.take(s.cfg.FillBatch)
		if !ok {
			return
		}
		s.fillFlights(ids, fs)
	}
}

// fillFlights reads flights fs (of ids) from the database and finishes
// each one: installed if its snapshot is after its need, retried while it
// is not, and answered uncached once the retries are spent (rule 3). It
// always finishes every flight, with an entry or an error, even if the
// store panics.
func (s *Service) fillFlights(ids []inventory.ProductID, fs []*flight) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LoadTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		snap, err := s.loadOnce(ctx, ids)
		if err != nil {
			s.stats.LoadErrors.Add(1)
			s.health.failed(err)
			for i, id := range ids {
				s.finish(id, fs[i], snap, err, false)
			}
			return
		}
		s.health.succeeded()
		s.marks.observe(snap.Pos)
		give := attempt >= s.cfg.SnapshotRetries
		n := 0
		for i, id := range ids {
			f := fs[i]
			switch {
			case f.need.Before(snap.Pos) || f.need.IsZero():
				s.finish(id, f, snap, nil, false)
			case give || f.hopeless:
				s.giveUp(id, f, snap)
			default: // keep for the next attempt
				ids[n], fs[n] = id, f
				n++
			}
		}
		if n == 0 {
			return
		}
		ids, fs = ids[:n], fs[:n]
		s.stats.SnapshotRetry.Add(1)
		s.queue.handOff(s)
		if sleepCtx(ctx, attempt) != nil { // out of time: answer with what we have
			for i, id := range ids {
				s.giveUp(id, fs[i], snap)
			}
			return
		}
	}
}

// loadOnce runs one database load, turning a panic into an error.
func (s *Service) loadOnce(ctx context.Context, ids []inventory.ProductID) (snap Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = inventory.Errorf(inventory.CodeInternal, "database load panicked: %v", r)
			s.log.Error("database load panicked", "panic", fmt.Sprint(r), "ids", len(ids))
		}
	}()
	s.stats.Loads.Add(1)
	return s.store.LoadProducts(ctx, ids)
}

// giveUp answers flight f from a snapshot that is not after its need,
// without caching it, and remembers that the key's mark is out of reach so
// the next fill does not wait for it again.
func (s *Service) giveUp(id inventory.ProductID, f *flight, snap Snapshot) {
	s.stats.UnsafeFills.Add(1)
	if !f.hopeless {
		s.log.Warn("serving a product uncached and marked stale: the database snapshot is not after a change already consumed",
			"product", int64(id), "snapshot", snap.Pos.String(), "consumed", f.need.String())
	}
	s.finish(id, f, snap, nil, true)
}

// finish builds the entry of one loaded key from the snapshot and what was
// consumed meanwhile (rule 1), installs it unless it is unsafe, and
// releases the flight's waiters.
func (s *Service) finish(id inventory.ProductID, f *flight, snap Snapshot, err error, unsafe bool) {
	st := s.stripe(id)
	st.mu.Lock()
	delete(st.flights, id)
	if err == nil {
		rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
		for _, c := range f.pending {
			applyToRecord(&rec, c)
		}
		f.entry = encodeEntry(&rec, s.dir.Load(), s.renderers)
		switch {
		case unsafe:
			f.stale = true
			if m, ok := st.marks[id]; ok && m.pos == f.need {
				m.gaveUp = true
				st.marks[id] = m
			} else {
				s.marks.floorGaveUp(f.need)
			}
		case f.invalidated:
			f.stale = true
		default:
			s.install(id, f.entry)
		}
	}
	f.err = err
	st.mu.Unlock()
	close(f.done)
}

// install stores an entry; the caller holds the key's stripe lock.
func (s *Service) install(id inventory.ProductID, e []byte) {
	if err := s.cache.Set(id, e); err != nil {
		s.stats.OversizeSkips.Add(1)
		s.cache.Delete(id)
	}
}
