package cachebench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// Shape of a cached product-inventory value: a small binary header, a
// pre-encoded JSON body and a pre-encoded protobuf body, 200–400 bytes in all.
const (
	keyBytes    = 8   // int64 product id, big-endian where a library wants bytes
	minValue    = 200 // smallest encoded value
	maxValue    = 400 // largest encoded value
	headerBytes = 16  // id (8), version (4), JSON length (2), protobuf length (2)

	// defaultBudgetPerEntry sizes every contender's byte bound: ~300 bytes of
	// payload on average, ~32 bytes of per-entry bookkeeping in the
	// byte-oriented caches, and ~25% headroom so that hash imbalance between
	// freecache segments or bigcache shards does not evict during the fill.
	defaultBudgetPerEntry = 420
)

// workload generates the values of products 1..entries deterministically, so
// a benchmark never holds a second copy of the data set on its own heap.
type workload struct {
	entries        int
	budgetPerEntry int    // bytes of byte bound per product; see defaultBudgetPerEntry
	template       []byte // maxValue bytes: JSON-looking text, then protobuf-like random bytes
}

func newWorkload(entries int) *workload {
	r := rand.New(rand.NewPCG(1, 2))
	t := make([]byte, 0, maxValue)
	t = append(t, make([]byte, headerBytes)...)
	for len(t) < maxValue*55/100 {
		t = fmt.Appendf(t, `{"warehouse":%d,"on_hand":%d,"reserved":%d},`, r.IntN(500), r.IntN(1e5), r.IntN(1e3))
	}
	for len(t) < maxValue {
		t = append(t, byte(r.Uint32()))
	}
	return &workload{entries: entries, budgetPerEntry: defaultBudgetPerEntry, template: t[:maxValue]}
}

// budgetBytes is the byte bound every contender is built with: a whole
// number of MiB because bigcache takes its bound in MB (MiB in fact).
func (w *workload) budgetBytes() int {
	mib := (w.entries*w.budgetPerEntry + 1<<20 - 1) >> 20
	return max(mib, 64) << 20
}

// randomID returns a product id drawn uniformly from 1..entries.
func (w *workload) randomID() int64 { return rand.Int64N(int64(w.entries)) + 1 }

// size returns the encoded size of product id at version: uniform over
// [minValue, maxValue] and stable for a given (id, version).
func (w *workload) size(id int64, version uint32) int {
	return minValue + int(splitmix64(uint64(id)<<32|uint64(version))%(maxValue-minValue+1))
}

// raw returns the value of product id at version without a header, aliasing
// the shared read-only template: for writes whose content is never checked.
func (w *workload) raw(id int64, version uint32) []byte {
	return w.template[:w.size(id, version)]
}

// value writes product id's value at version into dst, header included, so
// that a read can check it got the product it asked for.
func (w *workload) value(dst []byte, id int64, version uint32) []byte {
	dst = append(dst[:0], w.template[:w.size(id, version)]...)
	binary.BigEndian.PutUint64(dst[0:], uint64(id))
	binary.BigEndian.PutUint32(dst[8:], version)
	return dst
}

// valueID returns the product id recorded in a value's header.
func valueID(v []byte) int64 {
	if len(v) < headerBytes {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// fill stores version 0 of every product and returns the payload stored:
// keys plus values, the bytes an ideal cache would need.
func fill(c cacheUnderTest, w *workload) (payload int64, err error) {
	cl := c.newClient()
	buf := make([]byte, 0, maxValue)
	for id := int64(1); id <= int64(w.entries); id++ {
		v := w.value(buf, id, 0)
		if err := cl.set(id, v); err != nil {
			return payload, fmt.Errorf("fill product %d: %w", id, err)
		}
		payload += keyBytes + int64(len(v))
	}
	return payload, nil
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
