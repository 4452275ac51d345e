package cachebench

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// benchEntries is the number of products each contender holds while it is
// benchmarked: 1M entries, ~300 MB of payload.
const benchEntries = 1_000_000

// BenchmarkGet measures the hot path: a uniformly random read of a present
// product, copied into the reading goroutine's buffer (or, for bigcache, into
// the copy its Get allocates). Any miss or wrong value fails the benchmark.
func BenchmarkGet(b *testing.B) {
	w := newWorkload(benchEntries)
	eachFilled(b, w, func(b *testing.B, c cacheUnderTest) {
		var bad atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			cl := c.newClient()
			var n int64
			for pb.Next() {
				id := w.randomID()
				if v, ok := cl.get(id); !ok || valueID(v) != id {
					n++
				}
			}
			bad.Add(n)
		})
		b.StopTimer()
		if n := bad.Load(); n > 0 {
			b.Fatalf("%d reads missed or returned another product", n)
		}
	})
}

// BenchmarkSet measures overwriting a present product with a new version of
// random size, as a change event does. The value comes from a shared
// read-only template, so the only copy or allocation is the library's own.
func BenchmarkSet(b *testing.B) {
	w := newWorkload(benchEntries)
	eachFilled(b, w, func(b *testing.B, c cacheUnderTest) {
		var failed atomic.Int64
		var version atomic.Uint32
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			cl := c.newClient()
			v := version.Add(1 << 24) // a version range per goroutine
			var n int64
			for pb.Next() {
				v++
				id := w.randomID()
				if err := cl.set(id, w.raw(id, v)); err != nil {
					n++
				}
			}
			failed.Add(n)
		})
		b.StopTimer()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d writes failed", n)
		}
	})
}

// eachFilled runs bench as one sub-benchmark per contender, against a cache
// filled with the whole workload. The testing package calls a sub-benchmark
// several times while it settles on b.N, so the cache is filled on the first
// call and reused; it is released before the next contender is built so that
// one library's heap does not tax another's GC.
func eachFilled(b *testing.B, w *workload, bench func(*testing.B, cacheUnderTest)) {
	for _, ct := range contenders() {
		var c cacheUnderTest
		b.Run(ct.name, func(b *testing.B) {
			if c == nil {
				b.StopTimer()
				opened, err := ct.open(w)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := fill(opened, w); err != nil {
					opened.close()
					b.Fatal(err)
				}
				c = opened
				runtime.GC()
				b.StartTimer()
			}
			bench(b, c)
		})
		if c != nil {
			c.close()
		}
		c = nil
		runtime.GC()
	}
}
