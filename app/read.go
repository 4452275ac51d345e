package app

import (
	"context"
	"sync"

	"github.com/gintoki/gintoki/inventory"
)

// Get appends product id's response body, rendered by renderer number format,
// to dst. stale is true when the answer was read from the database but could
// not be cached, because the database's snapshot stayed behind a change the
// node consumed for the product: it is the database's answer, possibly
// older than the stream, and transports mark it stale. It is also true
// while the warehouse directory is being reloaded (RefreshDirectory). Errors are
// *inventory.Error (CodeInvalid, CodeNotFound, CodeUnavailable) or the
// context's error.
func (s *Service) Get(ctx context.Context, id inventory.ProductID, format BodyFormat, dst []byte) (body []byte, stale bool, err error) {
	if err := id.Validate(); err != nil {
		return dst, false, err
	}
	dir := s.dir.Load()
	if dir == nil {
		return dst, false, inventory.Errorf(inventory.CodeUnavailable, "not started: warehouse directory not loaded")
	}
	if out, ok, err := s.fromCache(id, format, dst, dir); ok {
		return out, s.dirStale.Load(), err
	}
	s.stats.Misses.Add(1)
	fs, err := s.await(ctx, []inventory.ProductID{id})
	if err != nil {
		return dst, false, err
	}
	out, err := s.fromEntry(id, fs[0].entry, format, dst)
	return out, fs[0].stale || s.dirStale.Load(), err
}

// fromCache answers from the cache: it appends the body to dst. ok is
// false on a miss.
func (s *Service) fromCache(id inventory.ProductID, format BodyFormat, dst []byte, dir *inventory.Directory) (out []byte, ok bool, err error) {
	r := hitReaders.Get().(*hitReader)
	*r = hitReader{format: format, epoch: dir.Epoch(), dst: dst}
	found := s.cache.Read(id, r)
	got, out := r.got, r.dst
	r.dst = nil // do not keep the caller's buffer
	hitReaders.Put(r)
	switch {
	case !found:
		return dst, false, nil
	case got == hitCorrupt:
		s.stats.CorruptEntries.Add(1)
		s.cache.Delete(id)
		return dst, false, nil
	case got == hitOld:
		// A warehouse changed since this entry was rendered: out holds
		// the whole entry after dst.
		out, err := s.fromEntry(id, out[len(dst):], format, dst)
		return out, true, err
	case got == hitNegative:
		s.stats.NegativeHits.Add(1)
		return dst, true, notFound(id)
	}
	s.stats.Hits.Add(1)
	return out, true, nil
}

// hitReader copies out of a cache entry what a read answers with: the body
// of one format, or the whole entry when it must be rendered again. Reads
// take one from hitReaders, so that handing it to the cache (an interface)
// costs no allocation.
type hitReader struct {
	format BodyFormat
	epoch  uint64 // the current directory's
	dst    []byte // the body, or the whole entry, is appended here
	got    hitKind
}

// hitKind is what a hitReader found.
type hitKind uint8

const (
	hitBody     hitKind = iota // dst has the body appended
	hitNegative                // the product does not exist
	hitOld                     // rendered with an older directory: dst has the whole entry appended
	hitCorrupt                 // the entry does not decode
)

var hitReaders = sync.Pool{New: func() any { return new(hitReader) }}

// ReadEntry implements EntryReader.
func (r *hitReader) ReadEntry(e []byte) {
	v, err := viewEntry(e, r.format)
	switch {
	case err != nil:
		r.got = hitCorrupt
	case v.epoch != r.epoch:
		r.got = hitOld
		r.dst = append(r.dst, e...)
	case !v.exists:
		r.got = hitNegative
	default:
		r.got = hitBody
		r.dst = append(r.dst, v.body...)
	}
}

// fromEntry answers from an entry that may have been rendered with an older
// directory, re-rendering (and re-installing) it if so.
func (s *Service) fromEntry(id inventory.ProductID, e []byte, format BodyFormat, dst []byte) ([]byte, error) {
	v, err := viewEntry(e, format)
	if err != nil {
		return dst, inventory.Wrap(inventory.CodeInternal, err, "cache entry")
	}
	if dir := s.dir.Load(); v.epoch != dir.Epoch() {
		if e, err = s.rerender(id, e); err != nil {
			return dst, err
		}
		if v, err = viewEntry(e, format); err != nil {
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
