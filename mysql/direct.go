package mysql

import (
	"context"
	"fmt"

	"github.com/gintoki/gintoki/app"
	"github.com/gintoki/gintoki/inventory"
)

// Direct answers reads straight from the database, one consistent snapshot
// (stock and warehouses together) per request, with no cache and no change
// stream: `gintoki serve --no-cache`, the baseline a cache is measured
// against. It serves the same reads as app.Service, so the transports take
// either; its answers are never stale, and cost a query each.
type Direct struct {
	store     *Store
	renderers []app.Renderer
	maxBatch  int
}

var _ app.Reader = (*Direct)(nil)

// NewDirect returns a Direct over store, rendering with renderers (indexed
// by format, as app.Service's) and refusing batches over maxBatch ids.
func NewDirect(store *Store, renderers []app.Renderer, maxBatch int) *Direct {
	return &Direct{store: store, renderers: renderers, maxBatch: maxBatch}
}

// Get appends product id's body, rendered by renderer number format, to dst.
// stale is always false. Errors are *inventory.Error (CodeInvalid,
// CodeNotFound, CodeUnavailable) or the context's error.
func (d *Direct) Get(ctx context.Context, id inventory.ProductID, format app.BodyFormat, dst []byte) (body []byte, stale bool, err error) {
	if err := id.Validate(); err != nil {
		return dst, false, err
	}
	snap, dir, err := d.store.loadDirect(ctx, []inventory.ProductID{id})
	if err != nil {
		return dst, false, err
	}
	rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
	inv, ok := dir.View(&rec)
	if !ok {
		return dst, false, inventory.Errorf(inventory.CodeNotFound, "product %d not found", int64(id))
	}
	return d.renderers[format].AppendInventory(dst, &inv), false, nil
}

// GetBatch reads many products in one snapshot, with app.Service.GetBatch's
// rules: duplicates answered once, bodies in the order of first
// appearance, unknown ids listed in request order.
func (d *Direct) GetBatch(ctx context.Context, ids []inventory.ProductID, format app.BodyFormat) (app.BatchResult, error) {
	switch {
	case len(ids) == 0:
		return app.BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "batch is empty")
	case len(ids) > d.maxBatch:
		return app.BatchResult{}, inventory.Errorf(inventory.CodeInvalid, "batch of %d ids is over the limit of %d", len(ids), d.maxBatch)
	}
	uniq := make([]inventory.ProductID, 0, len(ids))
	seen := make(map[inventory.ProductID]bool, len(ids))
	for _, id := range ids {
		if err := id.Validate(); err != nil {
			return app.BatchResult{}, err
		}
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	snap, dir, err := d.store.loadDirect(ctx, uniq)
	if err != nil {
		return app.BatchResult{}, err
	}
	var res app.BatchResult
	for _, id := range uniq {
		rec := inventory.NewRecord(id, snap.Pos, snap.Stock[id])
		if inv, ok := dir.View(&rec); ok {
			res.Bodies = append(res.Bodies, d.renderers[format].AppendInventory(nil, &inv))
		} else {
			res.NotFound = append(res.NotFound, id)
		}
	}
	return res, nil
}

// loadDirect reads ids' stock and every warehouse in one snapshot.
func (s *Store) loadDirect(ctx context.Context, ids []inventory.ProductID) (app.Snapshot, *inventory.Directory, error) {
	var ws []inventory.Warehouse
	snap, err := s.loadProducts(ctx, ids, s.directEnd, scanWarehouse(&ws))
	if err != nil {
		return app.Snapshot{}, nil, fmt.Errorf("direct read: %w", err)
	}
	return snap, inventory.NewDirectory(snap.Pos, ws), nil
}
