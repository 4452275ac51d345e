// Package cache is the in-process store of encoded entries, bounded in
// bytes. Entries live in 256 shards, each a ring of bytes (a log that
// overwrites its oldest entries when full) and an index from product id to
// the entry's place in the ring. Neither holds a Go pointer, so the garbage
// collector does not scan them, and the heap does not grow with the number
// of writes. docs/cache-choice.md has the benchmarks behind the design.
//
// It imports the domain and app's Cache port; never another adapter.
package cache

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// MinBytes is the smallest cache: 2 KiB per shard.
const MinBytes = 512 * 1024

const (
	// shardBits sets the number of shards (1<<shardBits); shardOf takes
	// the top shardBits bits of a product id's hash.
	shardBits  = 8
	shardCount = 1 << shardBits
	// headerBytes precede every entry in a ring: the product id (8
	// bytes), the entry's length and its slot's capacity (4 bytes each),
	// little-endian. Eviction and replacement read them; the read path
	// does not.
	headerBytes = 16
)

// slotCap is the room given to an entry of n bytes: an eighth more, so that
// a replacement that grows a little (a quantity gaining a digit) is written
// in place rather than appended.
func slotCap(n int) int { return n + n/8 }

// Cache stores entries by product id. It is safe for concurrent use.
//
// Each shard's ring is a log of slots ([header][entry][spare room]) at
// increasing positions. A Set that replaces an entry writes in its slot if
// the new one fits (the usual case: a change rewrites a product's entry
// with one of about the same size); otherwise it appends a new slot, and
// when the ring is full it first evicts from the oldest end, so the cache
// forgets in the order it learnt (first in, first out). A deleted or moved
// entry leaves its slot as dead bytes until the ring's oldest end passes
// it. The index maps an id to its live entry: a read is one map lookup and
// one copy, under the shard's read lock.
type Cache struct {
	shards    [shardCount]shard
	bytes     int
	maxEntry  int
	evictions atomic.Int64

	sampleMu    sync.Mutex // protects sampleShard and samplePos
	sampleShard int        // Sample's shard
	samplePos   uint64     // Sample's position in that shard's log
}

// shard is one ring and its index.
type shard struct {
	mu sync.RWMutex
	// index maps an id to its live entry's place: the ring offset of the
	// entry's first byte (past its header) in the high 32 bits, its length
	// in the low 32.
	index map[inventory.ProductID]uint64
	ring  []byte
	// head and tail are log positions: the ring holds the entries from
	// head (the oldest) to tail (where the next is written), position p
	// at ring[p%len(ring)]. tail-head <= len(ring). They only grow, so a
	// position names one entry for good.
	head, tail uint64
	_          [64]byte // keep two shards' locks off one cache line
}

var _ app.Cache = (*Cache)(nil)

// New returns a cache of the given size in bytes (the rings'; the index
// takes about 20–40 bytes per entry more). One entry may be at most 1/1024
// of it.
func New(bytes int) (*Cache, error) {
	if bytes < MinBytes {
		return nil, fmt.Errorf("cache size %d bytes is below the minimum of %d", bytes, MinBytes)
	}
	if bytes/shardCount > 1<<32-1 {
		return nil, fmt.Errorf("cache size %d bytes is above the maximum of %d", bytes, (1<<32-1)*shardCount)
	}
	c := &Cache{bytes: bytes, maxEntry: bytes / 1024}
	for i := range c.shards {
		c.shards[i].index = make(map[inventory.ProductID]uint64)
		c.shards[i].ring = make([]byte, bytes/shardCount)
	}
	return c, nil
}

// shardOf spreads ids, which are often dense, over the shards
// (Fibonacci hashing).
func (c *Cache) shardOf(id inventory.ProductID) *shard {
	return &c.shards[shardIndex(id)]
}

// shardIndex is the index of id's shard.
func shardIndex(id inventory.ProductID) uint8 {
	return uint8((uint64(id) * 0x9E3779B97F4A7C15) >> (64 - shardBits))
}

// Get appends the entry for id to dst.
func (c *Cache) Get(dst []byte, id inventory.ProductID) ([]byte, bool) {
	s := c.shardOf(id)
	s.mu.RLock()
	place, ok := s.index[id]
	if ok {
		dst = s.appendAt(dst, place>>32, place&(1<<32-1))
	}
	s.mu.RUnlock()
	return dst, ok
}

// Read calls r.ReadEntry with the entry for id, in place, under the
// shard's read lock, and reports whether it was found. An entry that wraps
// around its ring's end (one per lap of the ring at most) is handed over as
// a copy.
func (c *Cache) Read(id inventory.ProductID, r app.EntryReader) bool {
	s := c.shardOf(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	place, ok := s.index[id]
	if !ok {
		return false
	}
	r.ReadEntry(s.entry(place))
	return true
}

// Set stores the entry for id.
func (c *Cache) Set(id inventory.ProductID, entry []byte) error {
	if len(entry) > c.maxEntry {
		return fmt.Errorf("cache product %d: entry of %d bytes is over the limit of %d", int64(id), len(entry), c.maxEntry)
	}
	s := c.shardOf(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if place, ok := s.index[id]; ok {
		// The slot's header is just before the entry (the ring offset
		// wraps like a position).
		at := place>>32 + uint64(len(s.ring)) - headerBytes
		if _, _, capacity := s.header(at); len(entry) <= capacity {
			s.writeHeader(at, id, len(entry), capacity)
			s.writeAt(at+headerBytes, entry)
			s.index[id] = s.place(at+headerBytes, len(entry))
			return nil
		}
	}
	capacity := slotCap(len(entry))
	for size := uint64(headerBytes + capacity); s.tail+size-s.head > uint64(len(s.ring)); {
		if s.evictOldest() {
			c.evictions.Add(1)
		}
	}
	s.writeHeader(s.tail, id, len(entry), capacity)
	s.writeAt(s.tail+headerBytes, entry)
	s.index[id] = s.place(s.tail+headerBytes, len(entry))
	s.tail += uint64(headerBytes + capacity)
	return nil
}

// Delete removes the entry for id.
func (c *Cache) Delete(id inventory.ProductID) {
	s := c.shardOf(id)
	s.mu.Lock()
	delete(s.index, id)
	s.mu.Unlock()
}

// Clear removes every entry.
func (c *Cache) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.index)
		s.head = s.tail
		s.mu.Unlock()
	}
}

// Sample implements app.Cache: it walks each shard's log in turn, from the
// oldest entry, and starts again from the first shard when the last is
// done. It holds one shard's read lock while it looks for the next live
// entry there.
func (c *Cache) Sample() (inventory.ProductID, bool) {
	c.sampleMu.Lock()
	defer c.sampleMu.Unlock()
	// The current shard's rest, every other shard, then the current
	// shard's start.
	for range shardCount + 1 {
		s := &c.shards[c.sampleShard]
		s.mu.RLock()
		id, next, ok := s.nextLive(c.samplePos)
		s.mu.RUnlock()
		if ok {
			c.samplePos = next
			return id, true
		}
		c.sampleShard = (c.sampleShard + 1) % shardCount
		c.samplePos = 0
	}
	return 0, false
}

// IDs yields the key of every entry in the cache, negative entries
// included, in no particular order. It copies one shard's keys at a time
// under that shard's read lock and yields them after releasing it; entries
// stored or evicted meanwhile may be seen or not. It is for exporting the
// key list (/debug/cached-ids), not for a hot path.
func (c *Cache) IDs() iter.Seq[inventory.ProductID] {
	return func(yield func(inventory.ProductID) bool) {
		var ids []inventory.ProductID
		for i := range c.shards {
			s := &c.shards[i]
			s.mu.RLock()
			ids = slices.AppendSeq(ids[:0], maps.Keys(s.index))
			s.mu.RUnlock()
			for _, id := range ids {
				if !yield(id) {
					return
				}
			}
		}
	}
}

// Stats are the cache's own counters, read at scrape time.
type Stats struct {
	Entries   int64 // entries stored
	Evictions int64 // entries removed to make room
	Bytes     int64 // capacity in bytes
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	var entries int64
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		entries += int64(len(s.index))
		s.mu.RUnlock()
	}
	return Stats{Entries: entries, Evictions: c.evictions.Load(), Bytes: int64(c.bytes)}
}
