package cachebench

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"
	"github.com/maypok86/otter/v2"
)

// cacheUnderTest is one contender, built with a byte bound and filled by the
// benchmarks through clients.
type cacheUnderTest interface {
	// newClient returns a client for one goroutine; clients are not safe
	// for concurrent use, the cache behind them is.
	newClient() cacheClient
	// close releases the cache's goroutines, if it has any.
	close()
}

// cacheClient is the hot path as a request handler would use it: it owns
// reusable key and value buffers, so a read allocates only if the library
// makes it.
type cacheClient interface {
	// get returns product id's value and true, or false on a miss. The
	// slice belongs to the client and is valid until its next call.
	get(id int64) ([]byte, bool)
	// set stores value for product id. The caller may reuse value as soon
	// as set returns.
	set(id int64, value []byte) error
}

// contender names a library and how it is built for a workload.
type contender struct {
	name string
	open func(w *workload) (cacheUnderTest, error)
}

func contenders() []contender {
	return []contender{
		{"gintoki", openGintoki},
		{"freecache", openFreecache},
		{"bigcache", openBigcache},
		{"otter", openOtter},
	}
}

// TestContenders checks, on a small workload, that each adapter does what the
// benchmarks assume: every filled product is a hit with its own value, an
// overwrite is seen by the next read, and a read's result is not aliased to
// the cache's storage.
func TestContenders(t *testing.T) {
	w := newWorkload(20_000)
	for _, ct := range contenders() {
		t.Run(ct.name, func(t *testing.T) {
			c, err := ct.open(w)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.close)
			payload, err := fill(c, w)
			if err != nil {
				t.Fatal(err)
			}
			if lo, hi := int64(w.entries*(keyBytes+minValue)), int64(w.entries*(keyBytes+maxValue)); payload < lo || payload > hi {
				t.Fatalf("payload %d outside [%d, %d]", payload, lo, hi)
			}

			cl := c.newClient()
			for id := int64(1); id <= int64(w.entries); id++ {
				v, ok := cl.get(id)
				if !ok {
					t.Fatalf("product %d: miss after fill", id)
				}
				if got := valueID(v); got != id || len(v) != w.size(id, 0) {
					t.Fatalf("product %d: got product %d, %d bytes; want %d bytes", id, got, len(v), w.size(id, 0))
				}
			}

			const id = 42
			buf := w.value(nil, id, 7)
			if err := cl.set(id, buf); err != nil {
				t.Fatal(err)
			}
			clear(buf) // the caller reuses its buffer: the cache must have copied it
			v, ok := cl.get(id)
			if !ok || len(v) != w.size(id, 7) || valueID(v) != id {
				t.Fatalf("after overwrite: ok=%v len=%d id=%d; want len %d id %d", ok, len(v), valueID(v), w.size(id, 7), id)
			}
			clear(v) // the reader scribbles on its result: the cache must not see it
			if v, ok := c.newClient().get(id); !ok || valueID(v) != id {
				t.Fatalf("read result aliases the cache: ok=%v id=%d", ok, valueID(v))
			}
		})
	}
}

// --- freecache ------------------------------------------------------------

// freecacheCache holds entries in 256 preallocated ring buffers: the data
// holds no pointers, so the GC never scans entries.
type freecacheCache struct{ c *freecache.Cache }

func openFreecache(w *workload) (cacheUnderTest, error) {
	return freecacheCache{freecache.NewCache(w.budgetBytes())}, nil
}

func (f freecacheCache) close() {}

func (f freecacheCache) newClient() cacheClient {
	cl := &freecacheClient{c: f.c, buf: make([]byte, 0, maxValue)}
	// Bound once, so that GetFn's callback costs no allocation per read.
	cl.copyFn = func(v []byte) error {
		cl.buf = append(cl.buf[:0], v...)
		return nil
	}
	return cl
}

type freecacheClient struct {
	c      *freecache.Cache
	key    [keyBytes]byte
	buf    []byte
	copyFn func([]byte) error
}

func (cl *freecacheClient) get(id int64) ([]byte, bool) {
	binary.BigEndian.PutUint64(cl.key[:], uint64(id))
	// GetFn hands the callback a view of the ring buffer under the segment
	// lock; copying it out is the one copy a read needs.
	if err := cl.c.GetFn(cl.key[:], cl.copyFn); err != nil {
		return nil, false
	}
	return cl.buf, true
}

func (cl *freecacheClient) set(id int64, value []byte) error {
	binary.BigEndian.PutUint64(cl.key[:], uint64(id))
	return cl.c.Set(cl.key[:], value, 0)
}

// --- bigcache -------------------------------------------------------------

// bigcacheCache holds entries in per-shard byte queues indexed by
// map[uint64]uint32, also free of pointers. Get copies the value (and the
// key, to compare it) into fresh allocations; there is no callback read.
type bigcacheCache struct{ c *bigcache.BigCache }

func openBigcache(w *workload) (cacheUnderTest, error) {
	c, err := bigcache.New(context.Background(), bigcache.Config{
		Shards: 1024,
		// Entries never expire by age in this comparison; a LifeWindow of 0
		// would make every Set evict the shard's oldest entry.
		LifeWindow:  365 * 24 * time.Hour,
		CleanWindow: 0, // no cleanup goroutine
		// Tell bigcache what we know so it sizes its queues up front.
		MaxEntriesInWindow: w.entries,
		MaxEntrySize:       maxValue + keyBytes + 18, // 18: bigcache's entry header
		HardMaxCacheSize:   w.budgetBytes() >> 20,    // in MiB
	})
	if err != nil {
		return nil, fmt.Errorf("open bigcache: %w", err)
	}
	return bigcacheCache{c}, nil
}

func (b bigcacheCache) close() { _ = b.c.Close() }

func (b bigcacheCache) newClient() cacheClient { return &bigcacheClient{c: b.c} }

type bigcacheClient struct {
	c   *bigcache.BigCache
	key [keyBytes]byte
}

// keyString views the client's key buffer as a string without allocating.
// It is safe because bigcache copies keys it keeps and reads the string only
// during the call, and the buffer is not written until the call returns.
func (cl *bigcacheClient) keyString(id int64) string {
	binary.BigEndian.PutUint64(cl.key[:], uint64(id))
	return unsafe.String(&cl.key[0], keyBytes)
}

func (cl *bigcacheClient) get(id int64) ([]byte, bool) {
	// Get already returns a private copy: copying it again into a client
	// buffer would only penalise bigcache.
	v, err := cl.c.Get(cl.keyString(id))
	if err != nil {
		return nil, false
	}
	return v, true
}

func (cl *bigcacheClient) set(id int64, value []byte) error {
	return cl.c.Set(cl.keyString(id), value)
}

// --- otter ----------------------------------------------------------------

// otterCache is a concurrent hash map of nodes, each pointing at its own
// []byte: bounded in bytes only through the weigher, and every entry is a
// heap object the GC has to mark.
type otterCache struct{ c *otter.Cache[int64, []byte] }

func openOtter(w *workload) (cacheUnderTest, error) {
	c, err := otter.New(&otter.Options[int64, []byte]{
		MaximumWeight: uint64(w.budgetBytes()),
		// The weigher sees key and value; node and map overhead are
		// invisible to it, which is what the memory test shows.
		Weigher:         func(_ int64, v []byte) uint32 { return uint32(keyBytes + len(v)) },
		InitialCapacity: w.entries,
	})
	if err != nil {
		return nil, fmt.Errorf("open otter: %w", err)
	}
	return otterCache{c}, nil
}

func (o otterCache) close() { o.c.StopAllGoroutines() }

func (o otterCache) newClient() cacheClient {
	return &otterClient{c: o.c, buf: make([]byte, 0, maxValue)}
}

type otterClient struct {
	c   *otter.Cache[int64, []byte]
	buf []byte
}

func (cl *otterClient) get(id int64) ([]byte, bool) {
	v, ok := cl.c.GetIfPresent(id)
	if !ok {
		return nil, false
	}
	cl.buf = append(cl.buf[:0], v...)
	return cl.buf, true
}

// set clones value: otter keeps the slice it is given, so the caller's
// buffer cannot be handed over. In the service the encoder's output would be
// stored instead, but that allocation happens all the same.
func (cl *otterClient) set(id int64, value []byte) error {
	cl.c.Set(id, bytes.Clone(value))
	return nil
}
