package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// fakeDB is a database the test changes: a table and the binlog position
// after its last commit.
type fakeDB struct {
	mu    sync.Mutex
	at    uint64
	table map[inventory.ProductID][]inventory.Stock
}

func (d *fakeDB) load(_ context.Context, ids []inventory.ProductID) (Snapshot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	snap := Snapshot{Pos: pos(d.at), Stock: map[inventory.ProductID][]inventory.Stock{}}
	for _, id := range ids {
		if s, ok := d.table[id]; ok {
			snap.Stock[id] = append([]inventory.Stock(nil), s...)
		}
	}
	return snap, nil
}

// commit sets product's quantity in warehouse 1 and returns the change the
// stream would carry.
func (d *fakeDB) commit(product inventory.ProductID, qty int32) inventory.StockChange {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.at + 1
	d.at += 10
	d.table[product] = []inventory.Stock{{Warehouse: 1, Qty: qty}}
	return inventory.StockChange{Product: product, Warehouse: 1, Qty: qty, Pos: pos(p)}
}

// fakeHorizon is an InspectorFreshness the test moves.
type fakeHorizon struct {
	mu      sync.Mutex
	horizon time.Time
	bound   time.Duration
}

func (f *fakeHorizon) Horizon() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.horizon
}

func (f *fakeHorizon) MaxStaleness() time.Duration { return f.bound }

func (f *fakeHorizon) set(t time.Time) {
	f.mu.Lock()
	f.horizon = t
	f.mu.Unlock()
}

type inspectorFixture struct {
	db    *fakeDB
	svc   *Service
	cache *mapCache
	clock *fakeClock
	fresh *fakeHorizon
	in    *Inspector
	logs  *bytes.Buffer
}

func newInspectorFixture(t *testing.T) *inspectorFixture {
	t.Helper()
	f := &inspectorFixture{
		db:    &fakeDB{at: 100, table: map[inventory.ProductID][]inventory.Stock{1: {{Warehouse: 1, Qty: 5}}}},
		cache: newMapCache(), clock: &fakeClock{now: t0}, logs: &bytes.Buffer{},
	}
	f.fresh = &fakeHorizon{horizon: t0, bound: 5 * time.Second}
	store := &fakeStore{warehouses: testWarehouses, load: f.db.load}
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	f.svc = New(store, f.cache, []Renderer{textRenderer{}}, Config{}, log)
	if err := f.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.svc.Close)
	in, err := NewInspector(store, f.cache, f.fresh, InspectorConfig{Rate: 1, Now: f.clock.Now}, log)
	if err != nil {
		t.Fatal(err)
	}
	f.in = in
	if got := get(t, f.svc, 1); got != "1:AMS=5" {
		t.Fatalf("fill: %s", got)
	}
	return f
}

// secondLook moves past the bound with the horizon keeping up, and steps.
func (f *inspectorFixture) secondLook() {
	f.clock.advance(6 * time.Second)
	f.fresh.set(f.clock.Now())
	f.in.Step(context.Background())
}

func (f *inspectorFixture) counts() (samples, suspects, mismatches, inconclusive uint64) {
	st := f.in.Stats()
	return st.Samples.Load(), st.Suspects.Load(), st.Mismatches.Load(), st.Inconclusive.Load()
}

// A change committed but not consumed yet at the first look is a suspect,
// not a mismatch: once applied, the second look finds the entry right.
func TestInspectorChangeInFlightIsNotAMismatch(t *testing.T) {
	f := newInspectorFixture(t)
	c := f.db.commit(1, 9) // committed, not yet consumed
	f.in.Step(context.Background())
	if _, suspects, _, _ := f.counts(); suspects != 1 {
		t.Fatalf("suspects = %d, want 1", suspects)
	}
	f.svc.ApplyChange(c)
	f.secondLook()
	if samples, _, mismatches, _ := f.counts(); mismatches != 0 || samples != 2 {
		t.Fatalf("mismatches = %d, samples %d; logs:\n%s", mismatches, samples, f.logs)
	}
	if len(f.in.suspects) != 0 {
		t.Fatalf("%d suspects left", len(f.in.suspects))
	}
}

// A change applied to the entry that the first snapshot predates (the
// entry is newer) is not even a suspect.
func TestInspectorNewerEntryIsNotASuspect(t *testing.T) {
	f := newInspectorFixture(t)
	// The store answers with the old snapshot while the entry moves on.
	f.svc.ApplyChange(inventory.StockChange{Product: 1, Warehouse: 1, Qty: 6, Pos: pos(150)})
	f.in.Step(context.Background())
	if samples, suspects, _, _ := f.counts(); samples != 1 || suspects != 0 {
		t.Fatalf("samples %d, suspects %d", samples, suspects)
	}
}

// A change that never reaches the node (lost) is a mismatch once the bound
// has passed, logged with the key, counted once.
func TestInspectorCatchesALostChange(t *testing.T) {
	f := newInspectorFixture(t)
	f.db.commit(1, 9) // never consumed
	f.in.Step(context.Background())
	f.secondLook()
	if _, _, mismatches, _ := f.counts(); mismatches != 1 {
		t.Fatalf("mismatches = %d, want 1; logs:\n%s", mismatches, f.logs)
	}
	if !strings.Contains(f.logs.String(), "product_id=1") || !strings.Contains(f.logs.String(), `cache="w1=5@`) ||
		!strings.Contains(f.logs.String(), `database="w1=9"`) {
		t.Fatalf("log lacks the key or the values:\n%s", f.logs)
	}
}

// A wrong entry written over a correct one while nothing is committed (the
// snapshot is at the entry's floor) is caught too.
func TestInspectorCatchesAWrongEntry(t *testing.T) {
	f := newInspectorFixture(t)
	dir := f.svc.dir.Load()
	rec := inventory.NewRecord(1, pos(100), []inventory.Stock{{Warehouse: 1, Qty: 42}})
	if err := f.cache.Set(1, encodeEntry(&rec, dir, f.svc.renderers)); err != nil {
		t.Fatal(err)
	}
	f.in.Step(context.Background())
	f.secondLook()
	if _, _, mismatches, _ := f.counts(); mismatches != 1 {
		t.Fatalf("mismatches = %d, want 1; logs:\n%s", mismatches, f.logs)
	}
}

// While the node's horizon is behind the first look (the node is stale),
// the second look waits; after ten bounds the suspect is dropped unjudged.
func TestInspectorWaitsForTheHorizon(t *testing.T) {
	f := newInspectorFixture(t)
	f.db.commit(1, 9)
	f.in.Step(context.Background())
	f.fresh.set(t0.Add(-time.Second)) // stuck before the first look
	for range 5 {
		f.clock.advance(6 * time.Second)
		f.in.Step(context.Background())
	}
	if _, _, mismatches, inconclusive := f.counts(); mismatches != 0 || inconclusive != 0 || len(f.in.suspects) != 1 {
		t.Fatalf("mismatches %d, inconclusive %d, suspects %d while the node is stale", mismatches, inconclusive, len(f.in.suspects))
	}
	f.clock.advance(30 * time.Second)
	f.in.Step(context.Background())
	if _, _, mismatches, inconclusive := f.counts(); mismatches != 0 || inconclusive != 1 {
		t.Fatalf("mismatches %d, inconclusive %d after ten bounds", mismatches, inconclusive)
	}
}

// The comparison itself, row by row.
func TestDivergence(t *testing.T) {
	at := func(o uint64) inventory.Position { return pos(o) }
	st := func(w inventory.WarehouseID, q int32) inventory.Stock { return inventory.Stock{Warehouse: w, Qty: q} }
	rec := inventory.Record{Product: 1, Floor: at(100), Rows: []inventory.Row{
		{Warehouse: 1, Qty: 5, Version: at(100)},                // from the fill
		{Warehouse: 2, Qty: 7, Version: at(150)},                // a change at 150
		{Warehouse: 3, Qty: 0, Deleted: true, Version: at(120)}, // deleted at 120
	}}
	cases := []struct {
		name  string
		stock []inventory.Stock
		pos   uint64
		want  []inventory.WarehouseID
	}{
		{"agrees", []inventory.Stock{st(1, 5), st(2, 7)}, 200, nil},
		{"fill row differs", []inventory.Stock{st(1, 6), st(2, 7)}, 200, []inventory.WarehouseID{1}},
		{"fill row differs at the floor itself", []inventory.Stock{st(1, 6)}, 100, []inventory.WarehouseID{1}},
		{"snapshot before the floor: nothing comparable", []inventory.Stock{st(1, 6), st(4, 1)}, 90, nil},
		{"changed row newer than the snapshot", []inventory.Stock{st(1, 5), st(2, 3)}, 150, nil},
		{"changed row older than the snapshot differs", []inventory.Stock{st(1, 5), st(2, 3)}, 151, []inventory.WarehouseID{2}},
		{"deleted row still in the database", []inventory.Stock{st(1, 5), st(2, 7), st(3, 1)}, 200, []inventory.WarehouseID{3}},
		{"row missing from the cache", []inventory.Stock{st(1, 5), st(2, 7), st(4, 1)}, 200, []inventory.WarehouseID{4}},
		{"row missing from the database", []inventory.Stock{st(2, 7)}, 200, []inventory.WarehouseID{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := divergence(&rec, tc.stock, at(tc.pos))
			if len(got) != len(tc.want) {
				t.Fatalf("divergence = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("divergence = %v, want %v", got, tc.want)
				}
			}
		})
	}
}
