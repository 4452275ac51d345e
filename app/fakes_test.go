package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gintoki/gintoki/inventory"
)

// fakeStore is a Store whose product loads are answered by a function the
// test controls, so a test can stop a load between "read the database" and
// "install".
type fakeStore struct {
	mu         sync.Mutex
	warehouses []inventory.Warehouse
	load       func(ctx context.Context, ids []inventory.ProductID) (Snapshot, error)
	calls      atomic.Int64
	idsLoaded  [][]inventory.ProductID // guarded by mu
	// warehousesAt and warehousesErr are what LoadWarehouses answers
	// (guarded by mu; zero: position 1, no error).
	warehousesAt  inventory.Position
	warehousesErr error
	// warehouseLoads counts LoadWarehouses calls.
	warehouseLoads atomic.Int64
}

func (f *fakeStore) LoadProducts(ctx context.Context, ids []inventory.ProductID) (Snapshot, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.idsLoaded = append(f.idsLoaded, append([]inventory.ProductID(nil), ids...))
	load := f.load
	f.mu.Unlock()
	return load(ctx, ids)
}

func (f *fakeStore) LoadWarehouses(context.Context) ([]inventory.Warehouse, inventory.Position, error) {
	f.warehouseLoads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.warehousesErr != nil {
		return nil, inventory.Position{}, f.warehousesErr
	}
	at := f.warehousesAt
	if at.IsZero() {
		at = pos(1)
	}
	return f.warehouses, at, nil
}

// setWarehouses sets what LoadWarehouses answers next.
func (f *fakeStore) setWarehouses(at inventory.Position, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.warehousesAt, f.warehousesErr = at, err
}

// textRenderer renders "id:CODE=qty,CODE=qty".
type textRenderer struct{}

func (textRenderer) AppendInventory(dst []byte, inv *inventory.Inventory) []byte {
	dst = fmt.Appendf(dst, "%d:", inv.Product)
	for i, w := range inv.Warehouses {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, "%s=%d", w.Code, w.Qty)
	}
	return dst
}

func pos(offset uint64) inventory.Position { return inventory.Position{File: 1, Offset: offset} }

var testWarehouses = []inventory.Warehouse{
	{ID: 1, Code: "AMS", Active: true},
	{ID: 2, Code: "BER", Active: true},
	{ID: 3, Code: "CDG", Active: false},
}

// staticLoad answers every load from a fixed table at a fixed position.
func staticLoad(at inventory.Position, table map[inventory.ProductID][]inventory.Stock) func(context.Context, []inventory.ProductID) (Snapshot, error) {
	return func(_ context.Context, ids []inventory.ProductID) (Snapshot, error) {
		snap := Snapshot{Pos: at, Stock: map[inventory.ProductID][]inventory.Stock{}}
		for _, id := range ids {
			if s, ok := table[id]; ok {
				snap.Stock[id] = s
			}
		}
		return snap, nil
	}
}

func newTestService(tb testing.TB, store *fakeStore, cfg Config) *Service {
	tb.Helper()
	if store.warehouses == nil {
		store.warehouses = testWarehouses
	}
	s := New(store, newMapCache(), []Renderer{textRenderer{}}, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func get(tb testing.TB, s *Service, id inventory.ProductID) string {
	tb.Helper()
	b, stale, err := s.Get(context.Background(), id, 0, nil)
	switch {
	case err != nil:
		return "error:" + inventory.ErrorCode(err).String()
	case stale:
		return "stale|" + string(b)
	}
	return string(b)
}

// mapCache is a Cache over a map: unbounded, but it can be told to evict.
type mapCache struct {
	mu      sync.Mutex
	m       map[inventory.ProductID][]byte // guarded by mu
	sampled inventory.ProductID            // guarded by mu: the last key Sample returned
}

func newMapCache() *mapCache { return &mapCache{m: map[inventory.ProductID][]byte{}} }

func (c *mapCache) Get(dst []byte, id inventory.ProductID) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return append(dst, e...), ok
}

func (c *mapCache) Read(id inventory.ProductID, r EntryReader) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if ok {
		r.ReadEntry(e)
	}
	return ok
}

func (c *mapCache) ReadMany(ids []inventory.ProductID, r ManyEntryReader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, id := range ids {
		if e, ok := c.m[id]; ok {
			r.ReadEntryAt(i, e)
		}
	}
}

func (c *mapCache) Set(id inventory.ProductID, e []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = append([]byte(nil), e...)
	return nil
}

func (c *mapCache) Delete(id inventory.ProductID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (c *mapCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// Sample sweeps the keys in increasing order.
func (c *mapCache) Sample() (inventory.ProductID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := slices.Sorted(maps.Keys(c.m))
	if len(keys) == 0 {
		return 0, false
	}
	i, _ := slices.BinarySearch(keys, c.sampled+1)
	if i == len(keys) {
		i = 0
	}
	c.sampled = keys[i]
	return c.sampled, true
}
