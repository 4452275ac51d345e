package app

import (
	"context"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// ApplyChange applies one change from the stream. It is called by the
// change consumer, one change at a time.
//
// For a stock change, under the key's stripe lock (fill.go has the rules):
//   - the key's mark is raised to the change's position, so that no later
//     fill installs a snapshot without it (rule 2);
//   - a flight loading that key records the change in pending, so its
//     install cannot put back a value from before it (rule 1);
//   - a cached entry gets the change applied in place by the version rule
//     (older than what the row reflects: ignored), and is re-rendered;
//   - a key neither cached nor loading needs nothing more: the mark makes
//     the next fill read a snapshot that includes the change.
//
// A warehouse change replaces the directory; cached entries are re-rendered
// lazily by the first read that sees their epoch is old.
func (s *Service) ApplyChange(c inventory.Change) {
	s.raiseHigh(c.Position())
	switch c := c.(type) {
	case inventory.StockChange:
		s.applyStock(c)
	case inventory.WarehouseChange:
		s.applyDirectory(func(d *inventory.Directory) *inventory.Directory { return d.Apply(c) })
	case inventory.Truncate:
		s.applyTruncate(c)
	}
}

func (s *Service) applyStock(c inventory.StockChange) {
	st := s.stripe(c.Product)
	st.mu.Lock()
	defer st.mu.Unlock()
	s.raiseMark(st, c.Product, c.Pos)
	if f, ok := st.flights[c.Product]; ok {
		f.pending = append(f.pending, c)
	}
	e, ok := s.cache.Get(nil, c.Product)
	if !ok {
		s.stats.ChangesIgnored.Add(1)
		return
	}
	rec, err := decodeRecord(c.Product, e)
	if err != nil {
		s.stats.CorruptEntries.Add(1)
		s.cache.Delete(c.Product)
		return
	}
	if !rec.Apply(c) {
		s.stats.ChangesIgnored.Add(1)
		return
	}
	s.install(c.Product, encodeEntry(&rec, s.dir.Load(), s.renderers))
	s.stats.ChangesApplied.Add(1)
}

// applyDirectory replaces the directory with next(current). Only the
// consumer calls it, but Start may race with it: before Start, the change
// is kept for Start to apply.
func (s *Service) applyDirectory(next func(*inventory.Directory) *inventory.Directory) {
	for {
		d := s.dir.Load()
		if d == nil {
			s.startMu.Lock()
			if s.dir.Load() == nil { // Start will apply it
				s.early = append(s.early, next)
				s.startMu.Unlock()
				return
			}
			s.startMu.Unlock()
			continue
		}
		nd := next(d)
		if nd == d {
			s.stats.ChangesIgnored.Add(1)
			return
		}
		if s.dir.CompareAndSwap(d, nd) {
			s.stats.ChangesApplied.Add(1)
			return
		}
	}
}

// applyTruncate handles the emptying of a whole table. For the stock table,
// every flight records it (its snapshot may predate it) and the cache is
// cleared: entries would otherwise need a visit each. For the warehouse
// table, the directory is emptied.
func (s *Service) applyTruncate(c inventory.Truncate) {
	if c.Table == inventory.TableWarehouse {
		s.applyDirectory(func(d *inventory.Directory) *inventory.Directory { return d.Truncate(c.Pos) })
		return
	}
	// Hold every stripe while clearing, so no fill or re-render installs an
	// entry from before the truncate after the clear; raise the floor under
	// them, so every later fill reads a snapshot after the truncate.
	s.lockAll()
	for i := range s.stripes {
		for _, f := range s.stripes[i].flights {
			f.pending = append(f.pending, c)
		}
	}
	s.cache.Clear()
	s.marks.raiseFloor(c.Pos)
	s.unlockAll()
	s.stats.ChangesApplied.Add(1)
}

// Invalidate evicts product id's entry because a change for it was consumed
// that cannot be applied (a record that does not decode). The change's own
// position is unknown, so later fills of id install only a snapshot after
// every change consumed so far; a fill of id in flight answers its waiters
// without caching, marked stale.
func (s *Service) Invalidate(id inventory.ProductID) {
	s.stats.Invalidations.Add(1)
	p := s.highMark()
	st := s.stripe(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	if f, ok := st.flights[id]; ok {
		f.invalidated = true
	}
	s.cache.Delete(id)
	if !p.IsZero() {
		s.raiseMark(st, id, p)
	}
}

// InvalidateAll is Invalidate for every product: for a consumed record that
// cannot be applied and whose product is unknown. It clears the cache.
func (s *Service) InvalidateAll() {
	s.stats.Invalidations.Add(1)
	p := s.highMark()
	s.lockAll()
	defer s.unlockAll()
	for i := range s.stripes {
		for _, f := range s.stripes[i].flights {
			f.invalidated = true
		}
	}
	s.cache.Clear()
	s.marks.raiseFloor(p)
}

// RefreshDirectory reloads the warehouse directory because a warehouse
// record was consumed that cannot be applied: the directory may miss its
// change. Until a reload from a snapshot after everything consumed so far
// has been applied (Run's upkeep, within a second or so), every answer is
// marked stale. Warehouse changes applied meanwhile are kept if newer than
// the reload's snapshot (Directory.Refresh).
//
// A snapshot that is still not after everything consumed once
// Config.RefreshGrace has passed is taken anyway: the window in which a
// committed change is not yet visible to snapshots lasts microseconds, so
// a position the database does not reach in seconds is not one of its own
// (a change from another server, or a restored backup; see marks), and
// the database's directory is then the best there is. Waiting for it
// would mark every answer stale for good.
func (s *Service) RefreshDirectory() {
	s.stats.Invalidations.Add(1)
	p := s.highMark()
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if !s.dirPending {
		s.dirSince = time.Now()
	}
	s.dirPending, s.dirNeed = true, s.dirNeed.Max(p)
	s.dirStale.Store(true)
}

// refreshDirectory runs a pending directory reload if the snapshot read
// at pos, with warehouses ws, is after what it must reflect.
func (s *Service) refreshDirectory(ws []inventory.Warehouse, pos inventory.Position) {
	s.dirMu.Lock()
	pending, need, since := s.dirPending, s.dirNeed, s.dirSince
	s.dirMu.Unlock()
	if !pending {
		return
	}
	if !need.Before(pos) && !need.IsZero() {
		if time.Since(since) < s.cfg.RefreshGrace {
			return
		}
		s.log.Warn("reloading the warehouse directory from a snapshot that is not after every consumed change: the database has not reached their position in "+
			s.cfg.RefreshGrace.String()+", so it is not one of its own", "snapshot", pos.String(), "consumed", need.String())
	}
	s.applyDirectory(func(d *inventory.Directory) *inventory.Directory { return d.Refresh(pos, ws) })
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if s.dirNeed == need { // no newer record asked for another reload meanwhile
		s.dirPending, s.dirNeed = false, inventory.Position{}
		s.dirStale.Store(false)
		s.log.Info("warehouse directory reloaded", "position", pos.String())
	}
}

// lockAll locks every stripe, in order.
func (s *Service) lockAll() {
	for i := range s.stripes {
		s.stripes[i].mu.Lock()
	}
}

func (s *Service) unlockAll() {
	for i := range s.stripes {
		s.stripes[i].mu.Unlock()
	}
}

// applyToRecord applies a pending change to a freshly loaded record.
func applyToRecord(rec *inventory.Record, c inventory.Change) {
	switch c := c.(type) {
	case inventory.StockChange:
		rec.Apply(c)
	case inventory.Truncate:
		rec.Truncate(c.Pos)
	}
}

// sleepCtx waits a short, growing backoff (0.5 ms × 2^attempt, at most
// 50 ms), or until ctx ends.
func sleepCtx(ctx context.Context, attempt int) error {
	d := min(time.Duration(500<<min(attempt, 7))*time.Microsecond, 50*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
