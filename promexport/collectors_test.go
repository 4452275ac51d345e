package promexport

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/cache"
	"github.com/gintoki/gintoki/kafka"
)

type fakeService struct {
	stats   app.Stats
	marks   int64
	problem error
}

func (s *fakeService) Stats() *app.Stats  { return &s.stats }
func (s *fakeService) Marks() int64       { return s.marks }
func (s *fakeService) FillProblem() error { return s.problem }

func TestServiceCollector(t *testing.T) {
	svc := &fakeService{marks: 3, problem: errors.New("down")}
	for i, c := range []interface{ Add(uint64) uint64 }{
		&svc.stats.Hits, &svc.stats.NegativeHits, &svc.stats.Misses, &svc.stats.Coalesced, &svc.stats.Loads,
		&svc.stats.LoadErrors, &svc.stats.SnapshotRetry, &svc.stats.UnsafeFills, &svc.stats.Invalidations,
		&svc.stats.Rerenders, &svc.stats.ChangesApplied, &svc.stats.ChangesIgnored, &svc.stats.CorruptEntries,
		&svc.stats.OversizeSkips,
	} {
		c.Add(uint64(i + 1))
	}
	checkCollector(t, NewServiceCollector(svc), `
		gintoki_cache_hits_total 1
		gintoki_cache_negative_hits_total 2
		gintoki_cache_misses_total 3
		gintoki_coalesced_waiters_total 4
		gintoki_db_loads_total 5
		gintoki_db_load_failures_total 6
		gintoki_db_snapshot_retries_total 7
		gintoki_fills_uncached_total 8
		gintoki_invalidations_total 9
		gintoki_cache_rerenders_total 10
		gintoki_changes_applied_total 11
		gintoki_changes_ignored_total 12
		gintoki_cache_corrupt_entries_total 13
		gintoki_cache_oversize_total 14
		gintoki_fill_marks 3
		gintoki_fills_failing 1
	`)
	svc.problem = nil
	if err := testutil.CollectAndCompare(NewServiceCollector(svc), expose(t, "gintoki_fills_failing 0"), "gintoki_fills_failing"); err != nil {
		t.Error(err)
	}
}

type fakeCache cache.Stats

func (c fakeCache) Stats() cache.Stats { return cache.Stats(c) }

func TestCacheCollector(t *testing.T) {
	checkCollector(t, NewCacheCollector(fakeCache{Entries: 5, Evictions: 2, Bytes: 1 << 20}), `
		gintoki_cache_entries 5
		gintoki_cache_evictions_total 2
		gintoki_cache_bytes 1.048576e+06
	`)
}

func TestCacheCollectorOfARealCache(t *testing.T) {
	c, err := cache.New(cache.MinBytes)
	if err != nil {
		t.Fatal(err)
	}
	checkCollector(t, NewCacheCollector(c), `
		gintoki_cache_entries 0
		gintoki_cache_evictions_total 0
		gintoki_cache_bytes `+strconv.FormatInt(c.Stats().Bytes, 10))
}

type fakeFeed struct {
	applied            uint64
	lastApplied, src   time.Time
	ahead              time.Duration
	rejected           map[string]uint64
	products, all, dir uint64
}

func (f *fakeFeed) Applied() uint64                 { return f.applied }
func (f *fakeFeed) LastApplied() time.Time          { return f.lastApplied }
func (f *fakeFeed) SourceTime() time.Time           { return f.src }
func (f *fakeFeed) SourceAhead() time.Duration      { return f.ahead }
func (f *fakeFeed) Rejected() map[string]uint64     { return f.rejected }
func (f *fakeFeed) Evicted() (products, all uint64) { return f.products, f.all }
func (f *fakeFeed) DirectoryReloads() uint64        { return f.dir }

func TestFeedCollector(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	t.Run("nothing yet", func(t *testing.T) {
		c := NewFeedCollector(&fakeFeed{}, []string{"unknown_table", "malformed"})
		c.now = func() time.Time { return now }
		checkCollector(t, c, `
			gintoki_changes_total 0
			gintoki_change_last_applied_age_seconds -1
			gintoki_change_source_age_seconds -1
			gintoki_source_clock_ahead_seconds 0
			gintoki_changes_rejected_total{reason="malformed"} 0
			gintoki_changes_rejected_total{reason="unknown_table"} 0
			gintoki_changes_rejected_evictions_total{scope="all"} 0
			gintoki_changes_rejected_evictions_total{scope="directory"} 0
			gintoki_changes_rejected_evictions_total{scope="product"} 0
		`)
	})
	t.Run("changes and rejections", func(t *testing.T) {
		f := &fakeFeed{applied: 42, lastApplied: now.Add(-1500 * time.Millisecond), src: now.Add(-2 * time.Second),
			ahead: 250 * time.Millisecond, rejected: map[string]uint64{"malformed": 3}, products: 2, all: 1, dir: 4}
		c := NewFeedCollector(f, []string{"unknown_table", "malformed"})
		c.now = func() time.Time { return now }
		checkCollector(t, c, `
			gintoki_changes_total 42
			gintoki_change_last_applied_age_seconds 1.5
			gintoki_change_source_age_seconds 2
			gintoki_source_clock_ahead_seconds 0.25
			gintoki_changes_rejected_total{reason="malformed"} 3
			gintoki_changes_rejected_total{reason="unknown_table"} 0
			gintoki_changes_rejected_evictions_total{scope="all"} 1
			gintoki_changes_rejected_evictions_total{scope="directory"} 4
			gintoki_changes_rejected_evictions_total{scope="product"} 2
		`)
		if f.rejected["unknown_table"] != 0 || len(f.rejected) != 1 {
			t.Errorf("Collect changed the feed's map: %v", f.rejected)
		}
	})
}

type fakeConsumer kafka.Status

func (c fakeConsumer) Status() kafka.Status { return kafka.Status(c) }

func TestConsumerCollector(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	t.Run("detached", func(t *testing.T) {
		c := NewConsumerCollector(fakeConsumer{})
		checkCollector(t, c, "gintoki_consumer_attached 0\ngintoki_consumer_caught_up 0")
	})
	t.Run("attached, probe failing", func(t *testing.T) {
		c := NewConsumerCollector(fakeConsumer{Attached: true, ProbeError: errors.New("broker down"), CaughtUp: true})
		checkCollector(t, c, "gintoki_consumer_attached 0\ngintoki_consumer_caught_up 1")
	})
	t.Run("per partition", func(t *testing.T) {
		c := NewConsumerCollector(fakeConsumer{Attached: true, CaughtUp: true, AttachedAt: now.Add(-10 * time.Second),
			Partitions: []kafka.PartitionStatus{
				{Topic: "gintoki.inventory.warehouse", Partition: 0, LagRecords: 0, CaughtUpAt: now.Add(-100 * time.Millisecond)},
				{Topic: "gintoki.inventory.warehouse_stock_item", Partition: 2, LagRecords: 7}, // never caught up: since attaching
			}})
		c.now = func() time.Time { return now }
		checkCollector(t, c, `
			gintoki_consumer_attached 1
			gintoki_consumer_caught_up 1
			gintoki_consumer_lag_records{partition="0",topic="gintoki.inventory.warehouse"} 0
			gintoki_consumer_lag_records{partition="2",topic="gintoki.inventory.warehouse_stock_item"} 7
			gintoki_consumer_lag_seconds{partition="0",topic="gintoki.inventory.warehouse"} 0.1
			gintoki_consumer_lag_seconds{partition="2",topic="gintoki.inventory.warehouse_stock_item"} 10
		`)
	})
}

type fakeFreshness struct {
	bound time.Duration
	age   time.Duration
	known bool
	stale bool
}

func (f fakeFreshness) MaxStaleness() time.Duration       { return f.bound }
func (f fakeFreshness) Age() (age time.Duration, ok bool) { return f.age, f.known }
func (f fakeFreshness) Stale() bool                       { return f.stale }

func TestFreshnessCollector(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       fakeFreshness
		samples string
	}{
		{"not known yet", fakeFreshness{bound: 5 * time.Second}, "gintoki_max_staleness_seconds 5\ngintoki_staleness_seconds -1\ngintoki_stale 0"},
		{"fresh", fakeFreshness{bound: 5 * time.Second, age: 800 * time.Millisecond, known: true}, "gintoki_max_staleness_seconds 5\ngintoki_staleness_seconds 0.8\ngintoki_stale 0"},
		{"stale", fakeFreshness{bound: 3 * time.Second, age: 7 * time.Second, known: true, stale: true}, "gintoki_max_staleness_seconds 3\ngintoki_staleness_seconds 7\ngintoki_stale 1"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkCollector(t, NewFreshnessCollector(tc.f), tc.samples) })
	}
}

func TestReadiness(t *testing.T) {
	var r Readiness
	checkCollector(t, &r, "gintoki_ready 0")
	r.Report(true)
	checkCollector(t, &r, "gintoki_ready 1")
	r.Report(false)
	checkCollector(t, &r, "gintoki_ready 0")
}

func TestWarmCollector(t *testing.T) {
	t.Run("off", func(t *testing.T) {
		checkCollector(t, NewWarmCollector(nil), `
			gintoki_warming 0
			gintoki_warm_products_loaded_total 0
			gintoki_warm_target_products 0
			gintoki_warm_seconds 0
		`)
	})
	t.Run("warming from a list", func(t *testing.T) {
		p := new(app.WarmProgress)
		p.Loaded.Store(120)
		p.Target.Store(500)
		checkCollector(t, NewWarmCollector(p), `
			gintoki_warming 1
			gintoki_warm_products_loaded_total 120
			gintoki_warm_target_products 500
			gintoki_warm_seconds 0
		`)
	})
}

type fakeInspector struct{ stats app.InspectorStats }

func (in *fakeInspector) Stats() *app.InspectorStats { return &in.stats }

func TestInspectorCollector(t *testing.T) {
	in := new(fakeInspector)
	in.stats.Samples.Store(100)
	in.stats.Suspects.Store(4)
	in.stats.Mismatches.Store(1)
	in.stats.Inconclusive.Store(2)
	in.stats.Pending.Store(1)
	in.stats.Errors.Store(3)
	checkCollector(t, NewInspectorCollector(in), `
		gintoki_inspector_samples_total 100
		gintoki_inspector_suspects_total 4
		gintoki_inspector_mismatches_total 1
		gintoki_inspector_inconclusive_total 2
		gintoki_inspector_suspects_pending 1
		gintoki_inspector_errors_total 3
	`)
}
