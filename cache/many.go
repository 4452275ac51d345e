package cache

import (
	"math/bits"
	"sync/atomic"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// manyOnStack is the batch size ReadMany serves without allocating.
const manyOnStack = 128

// A shard's index fits the uint8 ReadMany keeps per id.
const _ = uint8(shardCount - 1)

// noPlace marks an id ReadMany did not find.
const noPlace = ^uint64(0)

// touchSink keeps ReadMany's touch pass from being optimized away.
var touchSink atomic.Uint32

// ReadMany implements app.Cache. Read takes and releases a shard's lock per
// id, and the atomic instructions of a lock wait for every memory load
// before them: the two cache misses of one id (its index slot, then its
// entry) could not overlap those of the next. ReadMany instead
//
//  1. takes the read lock of every shard the ids live in, once each, in
//     increasing shard order (so that two batches never wait on each
//     other, and a writer waits only for the batches already reading its
//     shard);
//  2. looks every id up, then reads the first byte of every entry found:
//     loops of independent loads, which the processor keeps in flight
//     together;
//  3. hands each entry to r, now in the processor's caches;
//  4. releases the locks.
func (c *Cache) ReadMany(ids []inventory.ProductID, r app.ManyEntryReader) {
	var shardBuf [manyOnStack]uint8
	var placeBuf [manyOnStack]uint64
	shardOf, places := shardBuf[:0], placeBuf[:0]
	if len(ids) > manyOnStack {
		shardOf, places = make([]uint8, 0, len(ids)), make([]uint64, 0, len(ids))
	}
	var held [shardCount / 64]uint64 // a bit per shard
	for _, id := range ids {
		i := shardIndex(id)
		shardOf = append(shardOf, i)
		held[i/64] |= 1 << (i % 64)
	}
	c.forEachHeld(&held, func(s *shard) { s.mu.RLock() })
	defer c.forEachHeld(&held, func(s *shard) { s.mu.RUnlock() })

	for i, id := range ids {
		place, ok := c.shards[shardOf[i]].index[id]
		if !ok {
			place = noPlace
		}
		places = append(places, place)
	}
	var sink byte
	for i, place := range places {
		if place != noPlace {
			sink ^= c.shards[shardOf[i]].ring[place>>32]
		}
	}
	touchSink.Store(uint32(sink))
	for i, place := range places {
		if place == noPlace {
			continue
		}
		r.ReadEntryAt(i, c.shards[shardOf[i]].entry(place))
	}
}

// forEachHeld calls f for every shard whose bit is set, in increasing
// order.
func (c *Cache) forEachHeld(held *[shardCount / 64]uint64, f func(*shard)) {
	for w, word := range held {
		for word != 0 {
			f(&c.shards[w*64+bits.TrailingZeros64(word)])
			word &= word - 1
		}
	}
}
