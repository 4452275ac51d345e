package cache

import (
	"encoding/binary"

	"github.com/gintoki/gintoki/inventory"
)

// The ring's mechanics. Every method here expects the shard's lock: the
// write lock for writeAt and evictOldest, at least the read lock for the
// rest.

// place packs where an entry written at log position pos lies in the ring.
func (s *shard) place(pos uint64, length int) uint64 {
	return pos%uint64(len(s.ring))<<32 | uint64(length)
}

// appendAt appends the n bytes at ring offset off to dst; they may wrap
// around the ring's end.
func (s *shard) appendAt(dst []byte, off, n uint64) []byte {
	if end := off + n; end <= uint64(len(s.ring)) {
		return append(dst, s.ring[off:end]...)
	}
	dst = append(dst, s.ring[off:]...)
	return append(dst, s.ring[:n-(uint64(len(s.ring))-off)]...)
}

// entry returns the entry at place (an index value) where the ring holds
// it, or, for an entry that wraps around the ring's end (one per lap of
// the ring at most), a copy.
func (s *shard) entry(place uint64) []byte {
	off, n := place>>32, place&(1<<32-1)
	if off+n <= uint64(len(s.ring)) {
		return s.ring[off : off+n : off+n]
	}
	return s.appendAt(make([]byte, 0, n), off, n)
}

// writeAt writes b at log position pos, wrapping around the ring's end.
func (s *shard) writeAt(pos uint64, b []byte) {
	n := copy(s.ring[pos%uint64(len(s.ring)):], b)
	copy(s.ring, b[n:])
}

// header reads the id, entry length and capacity of the slot at log
// position pos.
func (s *shard) header(pos uint64) (id inventory.ProductID, length, capacity int) {
	var hdr [headerBytes]byte
	s.appendAt(hdr[:0], pos%uint64(len(s.ring)), headerBytes)
	return inventory.ProductID(binary.LittleEndian.Uint64(hdr[:8])),
		int(binary.LittleEndian.Uint32(hdr[8:12])),
		int(binary.LittleEndian.Uint32(hdr[12:]))
}

// writeHeader writes the header of a slot at log position pos.
func (s *shard) writeHeader(pos uint64, id inventory.ProductID, length, capacity int) {
	var hdr [headerBytes]byte
	binary.LittleEndian.PutUint64(hdr[:8], uint64(id))
	binary.LittleEndian.PutUint32(hdr[8:12], uint32(length))
	binary.LittleEndian.PutUint32(hdr[12:], uint32(capacity))
	s.writeAt(pos, hdr[:])
}

// live reports whether the entry of id in the slot at log position pos is
// the one the index points at, rather than dead bytes left by a moved or
// deleted entry.
func (s *shard) live(id inventory.ProductID, pos uint64, length int) bool {
	place, ok := s.index[id]
	return ok && place == s.place(pos+headerBytes, length)
}

// evictOldest drops the oldest slot from the log and reports whether its
// entry was live (and so is now gone from the cache).
func (s *shard) evictOldest() bool {
	id, length, capacity := s.header(s.head)
	live := s.live(id, s.head, length)
	if live {
		delete(s.index, id)
	}
	s.head += headerBytes + uint64(capacity)
	return live
}

// nextLive returns the first live entry's id at log position from or
// later, and the position after that entry.
func (s *shard) nextLive(from uint64) (inventory.ProductID, uint64, bool) {
	pos := max(from, s.head)
	for pos < s.tail {
		id, length, capacity := s.header(pos)
		next := pos + headerBytes + uint64(capacity)
		if s.live(id, pos, length) {
			return id, next, true
		}
		pos = next
	}
	return 0, pos, false
}
