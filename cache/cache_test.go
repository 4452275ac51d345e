package cache

import (
	"bytes"
	"slices"
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
