package app

import (
	"bytes"
	"context"
	"slices"

	"github.com/gintoki/gintoki/inventory"
)

// BatchResult is the answer to a batch read.
type BatchResult struct {
	// Bodies holds the found products' bodies, in the order of their first
	// appearance in the request.
	Bodies [][]byte
	// NotFound lists the requested ids that do not exist, in request order.
	NotFound []inventory.ProductID
	// Stale is true when some answer could not be cached (see Get).
	Stale bool
}

// GetBatch reads many products at once. Duplicates are answered once. The
// misses among them are loaded in one database query (or joined to loads
// already in flight). Errors: CodeInvalid for an empty or oversized batch or
// an invalid id; CodeUnavailable if a miss cannot be loaded.
//
// The hits are read together (Cache.ReadMany), so that their memory loads
// overlap. Every hit's body, and nothing else of its entry, is copied once
// out of the cache, straight into one arena that holds all the bodies,
// which are sliced out of it at the end (once it no longer moves). The
// arena is sized after the first body, so a batch of a hundred costs a
// handful of allocations, none of them per product.
func (s *Service) GetBatch(ctx context.Context, ids []inventory.ProductID, format BodyFormat) (BatchResult, error) {
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
	// spans[i] is where uniq[i]'s body lies in the arena; to < 0: not found
	// (spanUnknown) or not cached (spanMiss).
	spans := make([]span, len(uniq))
	for i := range spans {
		spans[i].to = spanMiss
	}
	br := &batchReader{format: format, epoch: dir.Epoch(), arena: make([]byte, 0, batchFirstArena), spans: spans}
	s.cache.ReadMany(uniq, br)
	s.stats.Hits.Add(uint64(br.hits))
	s.stats.NegativeHits.Add(uint64(br.negatives))
	for _, i := range br.corrupt {
		s.stats.CorruptEntries.Add(1)
		s.cache.Delete(uniq[i])
	}
	arena := br.arena
	for i, e := range br.old {
		// A warehouse changed since this entry was rendered.
		start := len(arena)
		out, err := s.fromEntry(uniq[i], e, format, arena)
		switch {
		case err == nil:
			arena = out
			spans[i] = span{int32(start), int32(len(arena))}
		case inventory.ErrorCode(err) == inventory.CodeNotFound:
			spans[i].to = spanUnknown
		default:
			return BatchResult{}, err
		}
	}
	var misses []inventory.ProductID
	var missIdx []int
	for i, sp := range spans {
		if sp.to == spanMiss {
			missIdx, misses = append(missIdx, i), append(misses, uniq[i])
		}
	}
	stale := false
	if len(misses) > 0 {
		s.stats.Misses.Add(uint64(len(misses)))
		fs, err := s.await(ctx, misses)
		if err != nil {
			return BatchResult{}, err
		}
		for j, f := range fs {
			stale = stale || f.stale
			start := len(arena)
			out, err := s.fromEntry(misses[j], f.entry, format, arena)
			switch {
			case err == nil:
				arena = out
				spans[missIdx[j]] = span{int32(start), int32(len(arena))}
			case inventory.ErrorCode(err) == inventory.CodeNotFound:
				spans[missIdx[j]].to = spanUnknown
			default:
				return BatchResult{}, err
			}
		}
	}
	res := BatchResult{Bodies: make([][]byte, 0, len(uniq)), Stale: stale || s.dirStale.Load()}
	for i, sp := range spans {
		if sp.to < 0 {
			res.NotFound = append(res.NotFound, uniq[i])
			continue
		}
		res.Bodies = append(res.Bodies, arena[sp.from:sp.to:sp.to])
	}
	return res, nil
}

// span is a body's place in a batch's arena.
type span struct{ from, to int32 }

// Markers in span.to.
const (
	spanUnknown = -1 // the product does not exist
	spanMiss    = -2 // not cached: loading
)

// batchFirstArena holds the first body of a batch, which sizes the arena.
const batchFirstArena = 1024

// batchReader copies a batch's hits out of the cache (Cache.ReadMany).
type batchReader struct {
	format BodyFormat
	epoch  uint64 // the current directory's
	arena  []byte // the bodies, one after the other
	spans  []span // per id: its body in arena, or spanUnknown (negative)
	// old holds, by id index, entries rendered with an older directory,
	// copied whole to be rendered again once the cache is released.
	old             map[int][]byte
	corrupt         []int // indexes of entries that do not decode
	hits, negatives int
}

// ReadEntryAt implements ManyEntryReader.
func (r *batchReader) ReadEntryAt(i int, e []byte) {
	v, err := viewEntry(e, r.format)
	switch {
	case err != nil:
		r.corrupt = append(r.corrupt, i)
	case v.epoch != r.epoch:
		if r.old == nil {
			r.old = make(map[int][]byte)
		}
		r.old[i] = bytes.Clone(e)
	case !v.exists:
		r.negatives++
		r.spans[i].to = spanUnknown
	default:
		r.hits++
		start := len(r.arena)
		if start == 0 && len(r.spans) > 1 {
			// Size the arena from the first body.
			if want := len(r.spans) * (len(v.body) + len(v.body)/4); cap(r.arena) < want {
				r.arena = make([]byte, 0, want)
			}
		}
		r.arena = append(r.arena, v.body...)
		r.spans[i] = span{int32(start), int32(len(r.arena))}
	}
}

// batchSortedMax bounds the batches whose duplicates are found by sorting
// a copy on the stack; larger ones use a map.
const batchSortedMax = 256

// dedup returns ids without repeats, in the order of first appearance. A
// batch without repeats, the usual case, is returned as it is, found so by
// sorting a copy on the stack: no map, no allocation.
func dedup(ids []inventory.ProductID) []inventory.ProductID {
	if len(ids) == 1 {
		return ids
	}
	if len(ids) <= batchSortedMax {
		var buf [batchSortedMax]inventory.ProductID
		sorted := buf[:len(ids)]
		copy(sorted, ids)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) == len(ids) {
			return ids
		}
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
