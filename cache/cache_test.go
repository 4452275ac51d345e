package cache

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

func TestCache(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(nil, 1); ok {
		t.Fatal("empty cache hit")
	}
	if err := c.Set(1, []byte("one")); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get([]byte("x"), 1)
	if !ok || !bytes.Equal(got, []byte("xone")) {
		t.Fatalf("Get = %q %v, want xone true", got, ok)
	}
	if err := c.Set(2, make([]byte, MinBytes/1024+1)); err == nil {
		t.Fatal("oversized entry accepted")
	}
	c.Delete(1)
	if _, ok := c.Get(nil, 1); ok {
		t.Fatal("deleted entry still there")
	}
	_ = c.Set(3, []byte("three"))
	c.Clear()
	if c.Stats().Entries != 0 {
		t.Fatalf("entries after clear = %d", c.Stats().Entries)
	}
	if _, err := New(10); err == nil {
		t.Fatal("tiny cache accepted")
	}
}

func BenchmarkGet(b *testing.B) {
	c, _ := New(256 << 20)
	val := bytes.Repeat([]byte("v"), 300)
	const n = 1 << 20
	for i := 1; i <= n; i++ {
		_ = c.Set(inventory.ProductID(i), val)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 512)
		i := 0
		for pb.Next() {
			i++
			buf, _ = c.Get(buf[:0], inventory.ProductID(i%n+1))
		}
	})
}

// Sample visits every entry once per sweep, then starts again.
func TestSampleSweepsEveryEntry(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Sample(); ok {
		t.Fatal("sampled an empty cache")
	}
	const n = 200
	for i := range n {
		if err := c.Set(inventory.ProductID(i+1), []byte("entry")); err != nil {
			t.Fatal(err)
		}
	}
	for sweep := range 2 {
		seen := map[inventory.ProductID]bool{}
		for range n {
			id, ok := c.Sample()
			if !ok || id < 1 || id > n || seen[id] {
				t.Fatalf("sweep %d: Sample() = %d, %v after %d distinct keys", sweep, id, ok, len(seen))
			}
			seen[id] = true
		}
	}
	c.Clear()
	if id, ok := c.Sample(); ok {
		t.Fatalf("sampled %d from a cleared cache", id)
	}
}

// IDs yields every cached key once, deleted ones excluded, and stops when
// asked to.
func TestIDs(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		if err := c.Set(inventory.ProductID(i+1), []byte("entry")); err != nil {
			t.Fatal(err)
		}
	}
	c.Delete(7)
	var got []inventory.ProductID
	for id := range c.IDs() {
		got = append(got, id)
	}
	slices.Sort(got)
	want := make([]inventory.ProductID, 0, n-1)
	for i := 1; i <= n; i++ {
		if i != 7 {
			want = append(want, inventory.ProductID(i))
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("IDs() yielded %d keys, want 1..%d without 7", len(got), n)
	}
	seen := 0
	for range c.IDs() {
		if seen++; seen == 5 {
			break
		}
	}
}

// TestAgainstModel runs random sets, deletes and clears on a small cache
// and checks every read against a map: a read returns the value last
// stored for its id or nothing (evicted or deleted), never an older value,
// and a value just stored is always there.
func TestAgainstModel(t *testing.T) {
	c, err := New(MinBytes) // 2 KiB rings: wraps and evicts all the time
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	model := map[inventory.ProductID][]byte{}
	value := func(id inventory.ProductID, n int) []byte {
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(rng.IntN(256))
		}
		return v
	}
	for op := range 200_000 {
		id := inventory.ProductID(rng.IntN(5000) + 1)
		switch r := rng.IntN(100); {
		case r < 45:
			v := value(id, rng.IntN(MinBytes/1024+1))
			if err := c.Set(id, v); err != nil {
				t.Fatalf("op %d: Set(%d, %d bytes): %v", op, id, len(v), err)
			}
			model[id] = v
			if got, ok := c.Get(nil, id); !ok || !bytes.Equal(got, v) {
				t.Fatalf("op %d: Get(%d) right after Set = %v, want the value", op, id, ok)
			}
		case r < 50:
			c.Delete(id)
			delete(model, id)
		case r < 51 && op%1000 == 0:
			c.Clear()
			clear(model)
		default:
			got, ok := c.Get([]byte("prefix"), id)
			want, stored := model[id]
			switch {
			case ok && !stored:
				t.Fatalf("op %d: Get(%d) hit a deleted or never stored id", op, id)
			case ok && !bytes.Equal(got, append([]byte("prefix"), want...)):
				t.Fatalf("op %d: Get(%d) returned another value than the last stored", op, id)
			}
		}
	}
	st := c.Stats()
	if st.Evictions == 0 || st.Entries == 0 || st.Entries > int64(len(model)) {
		t.Fatalf("stats %+v with %d ids in the model: want evictions, and entries ≤ model", st, len(model))
	}
	for id := range c.IDs() {
		if _, ok := model[id]; !ok {
			t.Fatalf("IDs() yielded %d, which the model does not hold", id)
		}
	}
}

// The ring forgets in the order it learnt: filling a shard past its size
// evicts the oldest entries and keeps the newest.
func TestEvictsOldestFirst(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	// Ids of one shard, stored in order, ten times what the ring holds.
	s := c.shardOf(1)
	var ids []inventory.ProductID
	for id := inventory.ProductID(1); len(ids) < 10*len(s.ring)/(headerBytes+slotCap(100)); id++ {
		if c.shardOf(id) == s {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if err := c.Set(id, bytes.Repeat([]byte{byte(id)}, 100)); err != nil {
			t.Fatal(err)
		}
	}
	kept := 0
	for i, id := range ids {
		_, ok := c.Get(nil, id)
		switch {
		case ok:
			kept++
		case kept > 0:
			t.Fatalf("id %d (stored %d of %d) evicted after a newer one was kept", id, i+1, len(ids))
		}
	}
	if want := len(s.ring) / (headerBytes + slotCap(100)); kept != want {
		t.Fatalf("kept %d entries of 100 bytes in a %d-byte ring, want %d", kept, len(s.ring), want)
	}
}

// Readers and writers of the same ids at once: run with -race.
func TestConcurrentReadersAndWriters(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			buf := make([]byte, 0, 512)
			for i := range 20_000 {
				id := inventory.ProductID(i%300 + 1)
				if w%2 == 0 {
					_ = c.Set(id, bytes.Repeat([]byte{byte(id)}, i%400))
					continue
				}
				v, ok := c.Get(buf[:0], id)
				if ok && !bytes.Equal(v, bytes.Repeat([]byte{byte(id)}, len(v))) {
					t.Errorf("Get(%d) returned bytes of another entry", id)
					return
				}
			}
		})
	}
	wg.Wait()
}

// Replacing entries with ones of about the same size, as changes do, writes
// in place: it evicts nothing however often it happens.
func TestReplaceInPlace(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000 // about half of what the rings hold
	for round := range 50 {
		for id := inventory.ProductID(1); id <= n; id++ {
			// Sizes wander by a few bytes, within the slot's spare room.
			v := bytes.Repeat([]byte{byte(round)}, 200+round%8)
			if err := c.Set(id, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st := c.Stats(); st.Evictions != 0 || st.Entries != n {
		t.Fatalf("after 50 rounds of replacements: %+v, want %d entries and no eviction", st, n)
	}
	for id := inventory.ProductID(1); id <= n; id++ {
		if v, ok := c.Get(nil, id); !ok || !bytes.Equal(v, bytes.Repeat([]byte{49}, 201)) {
			t.Fatalf("Get(%d) = %d bytes, %v; want the last round's 201 bytes", id, len(v), ok)
		}
	}
}

// entryCopier is an EntryReader that keeps a copy.
type entryCopier struct{ got []byte }

func (r *entryCopier) ReadEntry(e []byte) { r.got = append(r.got[:0], e...) }

// Read hands over every entry as stored, those that wrap around the ring's
// end included.
func TestRead(t *testing.T) {
	c, err := New(MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	var r entryCopier
	if c.Read(1, &r) {
		t.Fatal("Read found an entry in an empty cache")
	}
	s := c.shardOf(1)
	wrapped := 0
	// Ids of one shard in turn, of sizes that do not divide the ring:
	// entries land across its end every lap.
	for id, i := inventory.ProductID(1), 0; i < 200; id++ {
		if c.shardOf(id) != s {
			continue
		}
		i++
		v := bytes.Repeat([]byte{byte(id)}, 100+i%50)
		if err := c.Set(id, v); err != nil {
			t.Fatal(err)
		}
		place := s.index[id]
		if place>>32+place&(1<<32-1) > uint64(len(s.ring)) {
			wrapped++
		}
		if !c.Read(id, &r) || !bytes.Equal(r.got, v) {
			t.Fatalf("Read(%d) = %d bytes, want the %d stored", id, len(r.got), len(v))
		}
	}
	if wrapped == 0 {
		t.Fatal("no entry wrapped around the ring's end: the test did not test that")
	}
}
