package cachebench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"
)

// The memory test is opt-in: it takes about two minutes and a few GiB of RSS.
const (
	memoryEnv      = "GINTOKI_CACHEBENCH" // "1" runs TestMemory
	memoryChildEnv = "GINTOKI_CACHEBENCH_CHILD"
	// memoryBudgetEnv overrides defaultBudgetPerEntry (bytes of byte bound
	// per product) to see how much headroom each contender needs.
	memoryBudgetEnv = "GINTOKI_CACHEBENCH_BUDGET"
	resultPrefix    = "cachebench-result: "

	memoryEntries = 1_000_000
	memoryRounds  = 5 // child processes per contender; the table shows medians
	churnWorkers  = 2
	churnDuration = 3 * time.Second
	churnWrites   = 10   // percent of churn operations that write a new version
	garbageBytes  = 2048 // short-lived allocation per churn operation, as a request's
	forcedGCs     = 5    // forced collections timed after the fill; the median is kept
)

// memoryResult is what one child process measures for one contender.
type memoryResult struct {
	Entries      int     `json:"entries"`
	BudgetBytes  int     `json:"budget_bytes"`  // the byte bound every contender was built with
	PayloadBytes int64   `json:"payload_bytes"` // keys + values
	HeapBytes    uint64  `json:"heap_bytes"`    // live heap objects added by the filled cache
	RSSBytes     uint64  `json:"rss_bytes"`     // process RSS after the fill
	BaseRSSBytes uint64  `json:"base_rss_bytes"`
	PeakRSSBytes uint64  `json:"peak_rss_bytes"` // VmHWM at the end of the churn
	ForcedGCSec  float64 `json:"forced_gc_sec"`  // median wall time of runtime.GC()
	// Share of products still cached after memoryEntries random overwrites
	// with new random sizes: what the byte bound holds once values change.
	ResidentAfterWrites  float64 `json:"resident_after_writes"`
	HeapAfterWritesBytes uint64  `json:"heap_after_writes_bytes"` // after those overwrites
	// Free space in in-use heap spans: what freed values leave behind.
	HeapUnusedAfterWritesBytes uint64 `json:"heap_unused_after_writes_bytes"`
	RSSAfterWritesBytes        uint64 `json:"rss_after_writes_bytes"`

	ChurnOps     int64   `json:"churn_ops"`
	ChurnSec     float64 `json:"churn_sec"`
	HitRatio     float64 `json:"hit_ratio"`
	GCCycles     uint64  `json:"gc_cycles"`
	GCMarkCPUSec float64 `json:"gc_mark_cpu_sec"` // runtime estimate of mark work: assists, workers, idle marking
	ProcCPUSec   float64 `json:"proc_cpu_sec"`    // getrusage user+system
	Pauses       uint64  `json:"pauses"`
	PauseP50Sec  float64 `json:"pause_p50_sec"`
	PauseP99Sec  float64 `json:"pause_p99_sec"`
	PauseMaxSec  float64 `json:"pause_max_sec"`
}

// TestMemory compares what each contender costs the process once it holds
// memoryEntries products: heap, RSS, the time of a full collection, and GC
// pauses and GC CPU under a read-mostly load that allocates like a server.
// Each contender runs in its own child process, so that one library's heap
// and RSS do not pollute another's figures.
func TestMemory(t *testing.T) {
	if os.Getenv(memoryEnv) != "1" {
		t.Skipf("memory/GC comparison skipped: it needs ~2 min and a few GiB; run it with %s=1 go test ./cachebench -run '^TestMemory$' -v", memoryEnv)
	}
	if name := os.Getenv(memoryChildEnv); name != "" {
		measureChild(t, name)
		return
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	results := make(map[string][]memoryResult)
	for round := range memoryRounds {
		for _, ct := range contenders() {
			r := runChild(t, exe, ct.name)
			load, _ := os.ReadFile("/proc/loadavg") // other tenants show here
			t.Logf("round %d %s (loadavg %s): %+v", round+1, ct.name, bytes.TrimSpace(load), r)
			results[ct.name] = append(results[ct.name], r)
		}
	}
	t.Log("medians of " + strconv.Itoa(memoryRounds) + " child processes per contender:\n" + memoryTable(results))
}

// runChild re-executes the test binary to measure one contender.
func runChild(t *testing.T, exe, name string) memoryResult {
	t.Helper()
	cmd := exec.Command(exe, "-test.run=^TestMemory$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), memoryChildEnv+"="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", name, err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			var r memoryResult
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("child %s: decode result: %v", name, err)
			}
			return r
		}
	}
	t.Fatalf("child %s printed no result:\n%s", name, out)
	return memoryResult{}
}

// measureChild runs in a child process: it fills one contender, measures it
// and prints the result as one line of JSON for the parent.
func measureChild(t *testing.T, name string) {
	i := slices.IndexFunc(contenders(), func(c contender) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no contender %q", name)
	}
	w := newWorkload(memoryEntries)
	if v := os.Getenv(memoryBudgetEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < keyBytes+maxValue {
			t.Fatalf("%s=%q: want bytes per entry, at least %d", memoryBudgetEnv, v, keyBytes+maxValue)
		}
		w.budgetPerEntry = n
	}
	r := memoryResult{Entries: w.entries, BudgetBytes: w.budgetBytes()}

	runtime.GC()
	baseHeap := heapObjects()
	r.BaseRSSBytes = rss(t)

	c, err := contenders()[i].open(w)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if r.PayloadBytes, err = fill(c, w); err != nil {
		t.Fatal(err)
	}

	// FreeOSMemory collects and returns freed pages to the OS at once, so
	// RSS shows what the cache keeps, not garbage the scavenger has yet to
	// release (such as bigcache's outgrown queues).
	debug.FreeOSMemory()
	r.HeapBytes = heapObjects() - baseHeap
	r.RSSBytes = rss(t)

	gcs := make([]float64, forcedGCs)
	for i := range gcs {
		start := time.Now()
		runtime.GC()
		gcs[i] = time.Since(start).Seconds()
	}
	slices.Sort(gcs)
	r.ForcedGCSec = gcs[len(gcs)/2]

	r.ResidentAfterWrites = overwriteAll(t, c, w)
	debug.FreeOSMemory()
	r.HeapAfterWritesBytes = heapObjects() - baseHeap
	r.HeapUnusedAfterWritesBytes = heapUnused()
	r.RSSAfterWritesBytes = rss(t)
	churn(t, c, w, &r)
	r.PeakRSSBytes = peakRSS(t)

	line, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(resultPrefix + string(line))
}

// overwriteAll writes a new version of a random product w.entries times, as
// change events do, and returns the share of all products still cached. A
// value that grows no longer fits its old slot in freecache (which then
// doubles the slot) or is appended anew in bigcache, so both may evict.
func overwriteAll(t *testing.T, c cacheUnderTest, w *workload) float64 {
	t.Helper()
	cl := c.newClient()
	buf := make([]byte, 0, maxValue)
	for i := range w.entries {
		id := w.randomID()
		if err := cl.set(id, w.value(buf, id, uint32(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	resident := 0
	for id := int64(1); id <= int64(w.entries); id++ {
		if v, ok := cl.get(id); ok && valueID(v) == id {
			resident++
		}
	}
	return float64(resident) / float64(w.entries)
}

// churn runs churnWorkers goroutines of random reads, churnWrites% writes of
// a new version, and a read-through fill on a miss, each operation also
// leaving garbageBytes of garbage, for churnDuration. It records the GC
// cycles, GC CPU and stop-the-world pauses of that window.
func churn(t *testing.T, c cacheUnderTest, w *workload, r *memoryResult) {
	before := readGCMetrics()
	cpuBefore := processCPU(t)
	start := time.Now()

	var ops, reads, hits atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range churnWorkers {
		wg.Go(func() {
			cl := c.newClient()
			buf := make([]byte, 0, maxValue)
			var garbage [64][]byte // keeps each allocation alive briefly, as a request would
			version := uint32(g+1) << 24
			var n, rd, h int64
			for ; !stop.Load(); n++ {
				id := w.randomID()
				garbage[n%int64(len(garbage))] = make([]byte, garbageBytes)
				if splitmix64(uint64(n)<<8|uint64(g))%100 < churnWrites {
					version++
					if err := cl.set(id, w.value(buf, id, version)); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				rd++
				if _, ok := cl.get(id); ok {
					h++
					continue
				}
				if err := cl.set(id, w.value(buf, id, 0)); err != nil { // read-through fill
					t.Error(err)
					return
				}
			}
			ops.Add(n)
			reads.Add(rd)
			hits.Add(h)
		})
	}
	time.Sleep(churnDuration)
	stop.Store(true)
	wg.Wait()

	r.ChurnSec = time.Since(start).Seconds()
	r.ProcCPUSec = processCPU(t) - cpuBefore
	after := readGCMetrics()
	r.ChurnOps = ops.Load()
	r.HitRatio = float64(hits.Load()) / float64(max(reads.Load(), 1))
	r.GCCycles = after.cycles - before.cycles
	r.GCMarkCPUSec = after.markCPU - before.markCPU

	counts := make([]uint64, len(after.pauses.Counts))
	for i := range counts {
		counts[i] = after.pauses.Counts[i] - before.pauses.Counts[i]
	}
	r.Pauses, r.PauseP50Sec, r.PauseP99Sec, r.PauseMaxSec = pauseQuantiles(counts, after.pauses.Buckets)
}

// memoryTable renders the median of every figure per contender, with the
// ratio to freecache beside the figures a reader compares.
func memoryTable(results map[string][]memoryResult) string {
	med := func(name string, f func(memoryResult) float64) float64 {
		v := make([]float64, 0, len(results[name]))
		for _, r := range results[name] {
			v = append(v, f(r))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	const mib = 1 << 20
	rows := []struct {
		label string
		f     func(memoryResult) float64
		ratio bool
	}{
		{"byte budget (MiB)", func(r memoryResult) float64 { return float64(r.BudgetBytes) / mib }, false},
		{"payload (MiB)", func(r memoryResult) float64 { return float64(r.PayloadBytes) / mib }, false},
		{"Go heap objects (MiB)", func(r memoryResult) float64 { return float64(r.HeapBytes) / mib }, true},
		{"RSS after fill (MiB)", func(r memoryResult) float64 { return float64(r.RSSBytes) / mib }, true},
		{"heap over payload (B/entry)", func(r memoryResult) float64 { return float64(int64(r.HeapBytes)-r.PayloadBytes) / float64(r.Entries) }, true},
		{"RSS over payload (B/entry)", func(r memoryResult) float64 {
			return float64(int64(r.RSSBytes-r.BaseRSSBytes)-r.PayloadBytes) / float64(r.Entries)
		}, true},
		{"peak RSS (MiB)", func(r memoryResult) float64 { return float64(r.PeakRSSBytes) / mib }, true},
		{"forced runtime.GC() (ms)", func(r memoryResult) float64 { return r.ForcedGCSec * 1e3 }, true},
		{"resident after 1M overwrites (%)", func(r memoryResult) float64 { return 100 * r.ResidentAfterWrites }, false},
		{"Go heap after overwrites (MiB)", func(r memoryResult) float64 { return float64(r.HeapAfterWritesBytes) / mib }, true},
		{"heap span free space after overwrites (MiB)", func(r memoryResult) float64 { return float64(r.HeapUnusedAfterWritesBytes) / mib }, false},
		{"RSS after overwrites (MiB)", func(r memoryResult) float64 { return float64(r.RSSAfterWritesBytes) / mib }, true},
		{"churn throughput (Mops/s)", func(r memoryResult) float64 { return float64(r.ChurnOps) / r.ChurnSec / 1e6 }, true},
		{"churn hit ratio", func(r memoryResult) float64 { return r.HitRatio }, false},
		{"GC cycles in churn", func(r memoryResult) float64 { return float64(r.GCCycles) }, false},
		{"GC mark CPU / process CPU (%)", func(r memoryResult) float64 { return 100 * r.GCMarkCPUSec / r.ProcCPUSec }, true},
		{"GC mark CPU per cycle (ms)", func(r memoryResult) float64 { return 1e3 * r.GCMarkCPUSec / float64(max(r.GCCycles, 1)) }, true},
		{"STW pauses counted", func(r memoryResult) float64 { return float64(r.Pauses) }, false},
		{"pause p50 (µs)", func(r memoryResult) float64 { return r.PauseP50Sec * 1e6 }, true},
		{"pause p99 (µs)", func(r memoryResult) float64 { return r.PauseP99Sec * 1e6 }, true},
		{"pause max (µs)", func(r memoryResult) float64 { return r.PauseMaxSec * 1e6 }, true},
	}

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	names := make([]string, 0, len(results))
	for _, ct := range contenders() {
		names = append(names, ct.name)
	}
	fmt.Fprintln(tw, "figure\t"+strings.Join(names, "\t")+"\t")
	for _, row := range rows {
		base := med("freecache", row.f)
		fmt.Fprint(tw, row.label+"\t")
		for _, name := range names {
			v := med(name, row.f)
			cell := strconv.FormatFloat(v, 'g', 4, 64)
			if row.ratio && name != "freecache" && base != 0 {
				cell += fmt.Sprintf(" (%.2fx)", v/base)
			}
			fmt.Fprint(tw, cell+"\t")
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	return b.String()
}
