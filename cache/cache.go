// Package cache is the in-process store of encoded entries, bounded in
// bytes, over github.com/coocood/freecache: entries live in a few large
// byte arenas with no Go pointers in them, so the garbage collector does not
// scan them, and the heap does not grow with the number of entries.
// docs/cache-choice.md has the benchmark behind the choice.
//
// It imports the domain and app's Cache port; never another adapter.
package cache

import (
	"encoding/binary"
	"fmt"
	"iter"
	"sync"

	"github.com/coocood/freecache"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// MinBytes is the smallest size freecache accepts (512 KiB).
const MinBytes = 512 * 1024

// Cache stores entries by product id. It is safe for concurrent use.
type Cache struct {
	fc    *freecache.Cache
	bytes int

	sampleMu sync.Mutex          // protects sweep
	sweep    *freecache.Iterator // Sample's position; nil: start again
}

var _ app.Cache = (*Cache)(nil)

// New returns a cache of the given size in bytes. One entry may be at most
// 1/1024 of it.
func New(bytes int) (*Cache, error) {
	if bytes < MinBytes {
		return nil, fmt.Errorf("cache size %d bytes is below the minimum of %d", bytes, MinBytes)
	}
	return &Cache{fc: freecache.NewCache(bytes), bytes: bytes}, nil
}

func key(id inventory.ProductID, buf *[8]byte) []byte {
	binary.BigEndian.PutUint64(buf[:], uint64(id))
	return buf[:]
}

// Get appends the entry for id to dst.
func (c *Cache) Get(dst []byte, id inventory.ProductID) ([]byte, bool) {
	var k [8]byte
	found := false
	_ = c.fc.GetFn(key(id, &k), func(v []byte) error {
		dst = append(dst, v...)
		found = true
		return nil
	})
	return dst, found
}

// Set stores the entry for id.
func (c *Cache) Set(id inventory.ProductID, entry []byte) error {
	var k [8]byte
	if err := c.fc.Set(key(id, &k), entry, 0); err != nil {
		return fmt.Errorf("cache product %d: %w", int64(id), err)
	}
	return nil
}

// Delete removes the entry for id.
func (c *Cache) Delete(id inventory.ProductID) {
	var k [8]byte
	c.fc.Del(key(id, &k))
}

// Clear removes every entry.
func (c *Cache) Clear() { c.fc.Clear() }

// Sample implements app.Cache: it sweeps the cache with freecache's
// iterator, which takes one segment's lock at a time, and starts again
// from the beginning when the sweep is done.
func (c *Cache) Sample() (inventory.ProductID, bool) {
	c.sampleMu.Lock()
	defer c.sampleMu.Unlock()
	for range 2 { // the sweep's end, then at most one full sweep
		if c.sweep == nil {
			c.sweep = c.fc.NewIterator()
		}
		for e := c.sweep.Next(); e != nil; e = c.sweep.Next() {
			if len(e.Key) == 8 {
				return inventory.ProductID(binary.BigEndian.Uint64(e.Key)), true
			}
		}
		c.sweep = nil
	}
	return 0, false
}

// IDs yields the key of every entry in the cache, negative entries
// included, in no particular order, with freecache's iterator: it holds
// one segment's lock at a time, for one entry, so writers wait at most that
// long. Entries stored or evicted meanwhile may be seen or not. It copies
// each entry, so a sweep of the whole cache costs about one read of it: it
// is for exporting the key list (/debug/cached-ids), not for a hot path.
func (c *Cache) IDs() iter.Seq[inventory.ProductID] {
	return func(yield func(inventory.ProductID) bool) {
		it := c.fc.NewIterator()
		for e := it.Next(); e != nil; e = it.Next() {
			if len(e.Key) == 8 && !yield(inventory.ProductID(binary.BigEndian.Uint64(e.Key))) {
				return
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
	return Stats{
		Entries:   c.fc.EntryCount(),
		Evictions: c.fc.EvacuateCount(),
		Bytes:     int64(c.bytes),
	}
}
