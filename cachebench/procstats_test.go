package cachebench

import (
	"math"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Readings of the runtime and of /proc that TestMemory reports.

type gcMetrics struct {
	cycles  uint64
	markCPU float64
	pauses  metrics.Float64Histogram
}

func readGCMetrics() gcMetrics {
	s := []metrics.Sample{
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/sched/pauses/total/gc:seconds"},
		// Mark work only: the runtime books GC pauses as wall time ×
		// GOMAXPROCS, so one descheduling of the VM during a pause would
		// swamp the figure; pauses are measured by the histogram instead.
		{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
	}
	metrics.Read(s)
	h := s[1].Value.Float64Histogram()
	return gcMetrics{
		cycles:  s[0].Value.Uint64(),
		markCPU: s[2].Value.Float64() + s[3].Value.Float64() + s[4].Value.Float64(),
		// Copied: the runtime may reuse the histogram's slices on the next Read.
		pauses: metrics.Float64Histogram{Counts: slices.Clone(h.Counts), Buckets: slices.Clone(h.Buckets)},
	}
}

// pauseQuantiles returns the number of pauses and the upper bounds of the
// buckets holding the median, the 99th percentile and the longest pause.
// The runtime's buckets are a few per power of two, so each figure is
// an upper bound within about 25%.
func pauseQuantiles(counts []uint64, buckets []float64) (n uint64, p50, p99, maxPause float64) {
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	upper := func(i int) float64 { // bucket i spans buckets[i]..buckets[i+1]
		if u := buckets[i+1]; !math.IsInf(u, 1) {
			return u
		}
		return buckets[i]
	}
	quantile := func(q float64) float64 {
		rank := uint64(math.Ceil(q * float64(n))) // nearest rank: with under 100 pauses, p99 is the longest
		var seen uint64
		for i, c := range counts {
			if seen += c; seen >= rank {
				return upper(i)
			}
		}
		return upper(len(counts) - 1)
	}
	for i := len(counts) - 1; i >= 0; i-- {
		if counts[i] > 0 {
			maxPause = upper(i)
			break
		}
	}
	return n, quantile(0.50), quantile(0.99), maxPause
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapUnused returns the free space inside in-use heap spans, which the
// runtime cannot return to the OS: fragmentation, in practice.
func heapUnused() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// rss returns the process's resident set from /proc/self/statm.
func rss(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		t.Fatalf("statm: %q", b)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		t.Fatalf("statm: %v", err)
	}
	return pages * uint64(os.Getpagesize())
}

// peakRSS returns VmHWM from /proc/self/status.
func peakRSS(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM: %v", err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func processCPU(t *testing.T) float64 {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func TestPauseQuantiles(t *testing.T) {
	buckets := []float64{0, 1, 2, 4, 8, math.Inf(1)}
	tests := []struct {
		name               string
		counts             []uint64
		n                  uint64
		p50, p99, maxPause float64
	}{
		{"none", []uint64{0, 0, 0, 0, 0}, 0, 0, 0, 0},
		{"one bucket", []uint64{0, 3, 0, 0, 0}, 3, 2, 2, 2},
		{"tail", []uint64{98, 0, 1, 0, 1}, 100, 1, 4, 8},
		{"overflow bucket reports its lower bound", []uint64{1, 0, 0, 0, 1}, 2, 1, 8, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, p50, p99, maxPause := pauseQuantiles(tt.counts, buckets)
			if n != tt.n || p50 != tt.p50 || p99 != tt.p99 || maxPause != tt.maxPause {
				t.Fatalf("got n=%d p50=%g p99=%g max=%g; want n=%d p50=%g p99=%g max=%g",
					n, p50, p99, maxPause, tt.n, tt.p50, tt.p99, tt.maxPause)
			}
		})
	}
}
