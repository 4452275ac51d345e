package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/gintoki/gintoki/inventory"
)

// flight is one database load of one key in progress. Reads that miss the
// same key while it is in flight wait for it instead of loading again.
//
// The danger it must survive: the load reads the database at some moment,
// and changes to the key may be consumed between that moment and the
// install. Installing the loaded value as is could put back a value older
// than a change this node has already applied, and nothing would ever
// correct it. So every change consumed for a key while its flight is
// registered is appended to pending, under the stripe lock, and the install
// (under the same lock) applies pending on top of the loaded snapshot,
// keeping only what is newer than the snapshot (Record.Apply's version
// rule). Changes consumed before the flight was registered are either in
// the snapshot or detected by startHigh (see Service.load).
type flight struct {
	done      chan struct{}      // closed when entry/err are set
	startHigh inventory.Position // the node's high mark when the flight was registered

	pending []inventory.Change // guarded by the stripe's mu

	entry []byte // the installed entry; set before done is closed
	err   error  // set before done is closed
}

// Get appends product id's response body, rendered by renderer number view,
// to dst. Errors are *inventory.Error (CodeInvalid, CodeNotFound,
// CodeUnavailable) or the context's error.
func (s *Service) Get(ctx context.Context, id inventory.ProductID, view int, dst []byte) ([]byte, error) {
	if err := id.Validate(); err != nil {
		return dst, err
	}
	dir := s.dir.Load()
	if dir == nil {
		return dst, inventory.Errorf(inventory.CodeUnavailable, "not started: warehouse directory not loaded")
	}
	if s.cfg.NoCache {
		return s.getUncached(ctx, id, view, dst)
	}
	if out, ok, err := s.fromCache(id, view, dst, dir); ok {
		return out, err
	}
	s.stats.Misses.Add(1)
	fs, err := s.await(ctx, []inventory.ProductID{id})
	if err != nil {
		return dst, err
	}
	return s.fromEntry(id, fs[0].entry, view, dst)
}

// fromCache answers from the cache. ok is false on a miss.
func (s *Service) fromCache(id inventory.ProductID, view int, dst []byte, dir *inventory.Directory) (out []byte, ok bool, err error) {
	start := len(dst)
	e, found := s.cache.Get(dst, id)
	if !found {
		return dst, false, nil
	}
	v, verr := viewEntry(e[start:], view)
	if verr != nil {
		s.stats.CorruptEntries.Add(1)
		s.cache.Delete(id)
		return dst, false, nil
	}
	if v.epoch != dir.Epoch() {
		// A warehouse changed since this entry was rendered.
		out, err := s.fromEntry(id, e[start:], view, dst)
		return out, true, err
	}
	if !v.exists {
		s.stats.NegativeHits.Add(1)
		return dst, true, notFound(id)
	}
	s.stats.Hits.Add(1)
	// Move the body to where the entry started.
	n := copy(e[start:], v.body)
	return e[:start+n], true, nil
}

// fromEntry answers from an entry that may have been rendered with an older
// directory, re-rendering (and re-installing) it if so.
func (s *Service) fromEntry(id inventory.ProductID, e []byte, view int, dst []byte) ([]byte, error) {
	v, err := viewEntry(e, view)
	if err != nil {
		return dst, inventory.Wrap(inventory.CodeInternal, err, "cache entry")
	}
	if dir := s.dir.Load(); v.epoch != dir.Epoch() {
		if e, err = s.rerender(id, e); err != nil {
			return dst, err
		}
		if v, err = viewEntry(e, view); err != nil {
			return dst, inventory.Wrap(inventory.CodeInternal, err, "cache entry")
		}
	}
	if !v.exists {
		return dst, notFound(id)
	}
	return append(dst, v.body...), nil
}

// rerender renders an entry again with the current directory and stores it
// if it is still the cached one's record.
func (s *Service) rerender(id inventory.ProductID, old []byte) ([]byte, error) {
	st := s.stripe(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	// Prefer the cached entry: a change may have been applied since old was
	// read. If the entry is no longer cached, render old for this answer
	// only: installing it could put back a record from before a change
	// applied (and then evicted) in between.
	cur, cached := s.cache.Get(nil, id)
	if cached {
		old = cur
	}
	rec, err := decodeRecord(id, old)
	if err != nil {
		s.stats.CorruptEntries.Add(1)
		s.cache.Delete(id)
		return nil, inventory.Wrap(inventory.CodeInternal, err, "cache entry")
	}
	e := encodeEntry(&rec, s.dir.Load(), s.renderers)
	if cached {
		s.install(id, e)
		s.stats.Rerenders.Add(1)
	}
	return e, nil
}

func notFound(id inventory.ProductID) error {
	return inventory.Errorf(inventory.CodeNotFound, "product %d not found", int64(id))
}

// BatchResult is the answer to a batch read.
type BatchResult struct {
	// Bodies holds the found products' bodies, in the order of their first
	// appearance in the request.
	Bodies [][]byte
	// NotFound lists the requested ids that do not exist, in request order.
	NotFound []inventory.ProductID
}

// GetBatch reads many products at once. Duplicates are answered once. The
// misses among them are loaded in one database query (or joined to loads
// already in flight). Errors: CodeInvalid for an empty or oversized batch or
// an invalid id; CodeUnavailable if a miss cannot be loaded.
func (s *Service) GetBatch(ctx context.Context, ids []inventory.ProductID, view int) (BatchResult, error) {
	switch {
	case len(ids) == 0:
		return BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "batch is empty")
	case len(ids) > s.cfg.MaxBatch:
		return BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "batch of %d ids is over the limit of %d", len(ids), s.cfg.MaxBatch)
	}
	for _, id := range ids {
		if err := id.Validate(); err != nil {
			return BatchResult{}, err
		}
	}
	dir := s.dir.Load()
	if dir == nil {
		return BatchResult{}, inventory.Errorf(inventory.CodeUnavailable, "not started: warehouse directory not loaded")
	}
	uniq := dedup(ids)
	bodies := make([][]byte, len(uniq))
	found := make([]bool, len(uniq))
	var missIdx []int
	var misses []inventory.ProductID
	// Hits are copied into one arena: an entry goes through scratch, its
	// body is appended to the arena, and bodies are sliced out of it at the
	// end, once it no longer moves.
	var arena, scratch []byte
	spans := make([][2]int, len(uniq))
	if !s.cfg.NoCache {
		arena, scratch = make([]byte, 0, len(uniq)*256), make([]byte, 0, 1024)
	}
	for i, id := range uniq {
		if s.cfg.NoCache {
			missIdx, misses = append(missIdx, i), append(misses, id)
			continue
		}
		out, ok, err := s.fromCache(id, view, scratch[:0], dir)
		switch {
		case !ok:
			missIdx, misses = append(missIdx, i), append(misses, id)
		case err == nil:
			spans[i] = [2]int{len(arena), len(arena) + len(out)}
			arena, found[i] = append(arena, out...), true
			scratch = out[:0]
		case inventory.ErrorCode(err) != inventory.CodeNotFound:
			return BatchResult{}, err
		}
	}
	for i := range uniq {
		if found[i] {
			bodies[i] = arena[spans[i][0]:spans[i][1]:spans[i][1]]
		}
	}
	if len(misses) > 0 {
		s.stats.Misses.Add(uint64(len(misses)))
		if s.cfg.NoCache {
			if err := s.batchUncached(ctx, misses, view, missIdx, bodies, found); err != nil {
				return BatchResult{}, err
			}
		} else {
			fs, err := s.await(ctx, misses)
			if err != nil {
				return BatchResult{}, err
			}
			for j, f := range fs {
				out, err := s.fromEntry(misses[j], f.entry, view, nil)
				switch {
				case err == nil:
					bodies[missIdx[j]], found[missIdx[j]] = out, true
				case inventory.ErrorCode(err) != inventory.CodeNotFound:
					return BatchResult{}, err
				}
			}
		}
	}
	res := BatchResult{Bodies: make([][]byte, 0, len(uniq))}
	for i, id := range uniq {
		if found[i] {
			res.Bodies = append(res.Bodies, bodies[i])
		} else {
			res.NotFound = append(res.NotFound, id)
		}
	}
	return res, nil
}

func dedup(ids []inventory.ProductID) []inventory.ProductID {
	if len(ids) == 1 {
		return ids
	}
	seen := make(map[inventory.ProductID]struct{}, len(ids))
	out := make([]inventory.ProductID, 0, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
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
		f := &flight{done: make(chan struct{}), startHigh: s.highMark()}
		if st.flights == nil {
			st.flights = make(map[inventory.ProductID]*flight)
		}
		st.flights[id] = f
		st.mu.Unlock()
		fs[i] = f
		mine, mineFs = append(mine, id), append(mineFs, f)
	}
	if len(mine) > 0 {
		s.loads.Add(1)
		go s.load(mine, mineFs)
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

func doneFlight(e []byte) *flight {
	f := &flight{done: make(chan struct{}), entry: e}
	close(f.done)
	return f
}

// load runs the database load of flights fs (of ids) and installs the
// results. It always finishes every flight, with an entry or an error,
// even if the store panics.
func (s *Service) load(ids []inventory.ProductID, fs []*flight) {
	defer s.loads.Done()
	s.stats.Loads.Add(1)
	snap, err := s.loadSnapshot(ids, fs)
	if err != nil {
		s.stats.LoadErrors.Add(1)
	}
	for i, id := range ids {
		s.finish(id, fs[i], snap, err)
	}
}

// loadSnapshot loads ids, retrying while the snapshot is not after the high
// mark every flight saw when it was registered.
//
// Why: a change can be consumed before its transaction is visible to new
// snapshots (the binlog is written before the storage engine commits, and
// a relay may read it in that gap). If that change's key had no entry and no
// flight, the change was dropped, and a flight registered after it would
// load a snapshot without it and install a value older than a change this
// node already consumed, for good. Every such flight has startHigh at or
// after that change, and its snapshot is at or before it: the load is
// retried until the database catches up (microseconds in practice).
func (s *Service) loadSnapshot(ids []inventory.ProductID, fs []*flight) (snap Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = inventory.Errorf(inventory.CodeInternal, "database load panicked: %v", r)
			s.log.Error("database load panicked", "panic", fmt.Sprint(r), "ids", len(ids))
		}
	}()
	need := inventory.Position{}
	for _, f := range fs {
		need = need.Max(f.startHigh)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LoadTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		snap, err = s.store.LoadProducts(ctx, ids)
		if err != nil || need.Before(snap.Pos) || need.IsZero() {
			return snap, err
		}
		if attempt == s.cfg.SnapshotRetries {
			return Snapshot{}, inventory.Errorf(inventory.CodeUnavailable,
				"database snapshot %v is still not after consumed change %v", snap.Pos, need)
		}
		s.stats.SnapshotRetry.Add(1)
		if err := sleepCtx(ctx, attempt); err != nil {
			return Snapshot{}, inventory.Wrap(inventory.CodeUnavailable, err, "waiting for the database snapshot to catch up")
		}
	}
}

// finish installs one loaded key (applying what was consumed meanwhile) and
// releases its waiters.
func (s *Service) finish(id inventory.ProductID, f *flight, snap Snapshot, err error) {
	st := s.stripe(id)
	st.mu.Lock()
	delete(st.flights, id)
	if err == nil {
		rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
		for _, c := range f.pending {
			applyToRecord(&rec, c)
		}
		f.entry = encodeEntry(&rec, s.dir.Load(), s.renderers)
		s.install(id, f.entry)
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

// getUncached is the database-only read path (Config.NoCache).
func (s *Service) getUncached(ctx context.Context, id inventory.ProductID, view int, dst []byte) ([]byte, error) {
	s.stats.Misses.Add(1)
	snap, err := s.store.LoadProducts(ctx, []inventory.ProductID{id})
	s.stats.Loads.Add(1)
	if err != nil {
		s.stats.LoadErrors.Add(1)
		return dst, err
	}
	rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
	v, err := viewEntry(encodeEntry(&rec, s.snapshotDirectory(snap), s.renderers), view)
	if err != nil {
		return dst, inventory.Wrap(inventory.CodeInternal, err, "render")
	}
	if !v.exists {
		return dst, notFound(id)
	}
	return append(dst, v.body...), nil
}

// snapshotDirectory is the directory for an uncached read: the snapshot's
// own warehouses if it has them, else the current directory.
func (s *Service) snapshotDirectory(snap Snapshot) *inventory.Directory {
	if snap.Warehouses != nil {
		return inventory.NewDirectory(snap.Pos, snap.Warehouses)
	}
	return s.dir.Load()
}

func (s *Service) batchUncached(ctx context.Context, ids []inventory.ProductID, view int, idx []int, bodies [][]byte, found []bool) error {
	snap, err := s.store.LoadProducts(ctx, ids)
	s.stats.Loads.Add(1)
	if err != nil {
		s.stats.LoadErrors.Add(1)
		return err
	}
	dir := s.snapshotDirectory(snap)
	for j, id := range ids {
		rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
		if rec.Exists() {
			e := encodeEntry(&rec, dir, s.renderers)
			v, err := viewEntry(e, view)
			if err != nil {
				return inventory.Wrap(inventory.CodeInternal, err, "render")
			}
			bodies[idx[j]], found[idx[j]] = slices.Clone(v.body), true
		}
	}
	return nil
}
