package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// InspectorConfig configures an Inspector.
type InspectorConfig struct {
	// Rate is how many cached keys are compared per second. Required.
	Rate float64
	// LoadTimeout bounds each database read (default 2s).
	LoadTimeout time.Duration
	// MaxSuspects bounds the differences waiting for their second look
	// (default 1000); beyond it new ones are dropped as inconclusive.
	MaxSuspects int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// InspectorFreshness is what the Inspector needs of the freshness policy
// (Freshness implements it).
type InspectorFreshness interface {
	// Horizon is the time on this node's clock before which every
	// committed change is reflected (zero: unknown).
	Horizon() time.Time
	// MaxStaleness is the bound.
	MaxStaleness() time.Duration
}

// Inspector checks, live and at a low rate, that the cache agrees with the
// database: it samples a cached key, reads the product in a fresh
// consistent snapshot, and compares. A difference is normal while the
// change that explains it is on its way (the node's lag), so it is only a
// suspect at first. Its second look comes once the bound has passed and
// the node's horizon is past the moment of the first read, so that every
// change committed before that snapshot must have been applied by then;
// and it compares only rows whose versions say they reflect nothing at or
// after the snapshot's position (a row changed since is newer, not wrong).
// A difference that survives both, and also differs from a second, newer
// snapshot, is counted as a mismatch and logged with the key. It is the
// cache inspector of large cache fleets in miniature.
type Inspector struct {
	store Store
	cache Cache
	fresh InspectorFreshness
	cfg   InspectorConfig
	log   *slog.Logger

	suspects []suspect // Run's own: first looks that differed, oldest first

	stats InspectorStats
}

// InspectorStats are the Inspector's counters.
type InspectorStats struct {
	Samples      atomic.Uint64 // keys compared at a first look
	Suspects     atomic.Uint64 // first looks that differed (normally: changes in flight)
	Mismatches   atomic.Uint64 // differences that outlived the bound
	Inconclusive atomic.Uint64 // suspects dropped unjudged: evicted, node stale too long, too many
	Errors       atomic.Uint64 // database reads or entries that failed
	Pending      atomic.Int64  // suspects waiting for their second look
}

// suspect is a first look that differed.
type suspect struct {
	id     inventory.ProductID
	stock  []inventory.Stock // the first snapshot's rows
	pos    inventory.Position
	readAt time.Time // after the first snapshot was read
	due    time.Time // second look not before
}

// NewInspector returns an Inspector; Run starts it.
func NewInspector(store Store, cache Cache, fresh InspectorFreshness, cfg InspectorConfig, log *slog.Logger) (*Inspector, error) {
	if cfg.Rate <= 0 {
		return nil, errors.New("inspector: the rate must be positive")
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = 2 * time.Second
	}
	if cfg.MaxSuspects <= 0 {
		cfg.MaxSuspects = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Inspector{store: store, cache: cache, fresh: fresh, cfg: cfg, log: log}, nil
}

// Stats returns the Inspector's counters.
func (in *Inspector) Stats() *InspectorStats { return &in.stats }

// Run inspects at the configured rate until ctx ends.
func (in *Inspector) Run(ctx context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / in.cfg.Rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		in.Step(ctx)
	}
}

// Step gives every due suspect its second look, then samples one key.
func (in *Inspector) Step(ctx context.Context) {
	in.recheck(ctx)
	if id, ok := in.cache.Sample(); ok {
		in.inspect(ctx, id)
	}
	in.stats.Pending.Store(int64(len(in.suspects)))
}

// load reads id in a fresh snapshot.
func (in *Inspector) load(ctx context.Context, id inventory.ProductID) ([]inventory.Stock, inventory.Position, error) {
	lctx, cancel := context.WithTimeout(ctx, in.cfg.LoadTimeout)
	defer cancel()
	snap, err := in.store.LoadProducts(lctx, []inventory.ProductID{id})
	if err != nil {
		in.stats.Errors.Add(1)
		return nil, inventory.Position{}, err
	}
	return snap.Stock[id], snap.Pos, nil
}

// cached returns the cached record of id.
func (in *Inspector) cached(id inventory.ProductID) (inventory.Record, bool) {
	e, ok := in.cache.Get(nil, id)
	if !ok {
		return inventory.Record{}, false
	}
	rec, err := decodeRecord(id, e)
	if err != nil {
		in.stats.Errors.Add(1)
		return inventory.Record{}, false
	}
	return rec, true
}

// inspect is the first look at id. The snapshot is read before the entry,
// so a change the entry reflects and the snapshot does not is newer than
// the snapshot, which the versions show.
func (in *Inspector) inspect(ctx context.Context, id inventory.ProductID) {
	if slices.ContainsFunc(in.suspects, func(s suspect) bool { return s.id == id }) {
		return // already waiting for its second look
	}
	stock, pos, err := in.load(ctx, id)
	if err != nil {
		return
	}
	readAt := in.cfg.Now()
	rec, ok := in.cached(id)
	if !ok {
		return
	}
	in.stats.Samples.Add(1)
	if len(divergence(&rec, stock, pos)) == 0 {
		return
	}
	in.stats.Suspects.Add(1)
	if len(in.suspects) >= in.cfg.MaxSuspects {
		in.stats.Inconclusive.Add(1)
		return
	}
	in.suspects = append(in.suspects, suspect{id: id, stock: stock, pos: pos, readAt: readAt, due: readAt.Add(in.fresh.MaxStaleness())})
}

// recheck gives the suspects that are due their second look. One waits
// while the node's horizon is not yet past its first read (the node is
// stale), for up to ten bounds.
func (in *Inspector) recheck(ctx context.Context) {
	now := in.cfg.Now()
	horizon := in.fresh.Horizon()
	kept := in.suspects[:0]
	for _, s := range in.suspects {
		switch {
		case now.Before(s.due):
			kept = append(kept, s)
		case horizon.IsZero() || horizon.Before(s.readAt):
			if now.Sub(s.readAt) > 10*in.fresh.MaxStaleness() {
				in.stats.Inconclusive.Add(1)
			} else {
				kept = append(kept, s)
			}
		default:
			in.judge(ctx, s)
		}
	}
	clear(in.suspects[len(kept):])
	in.suspects = kept
}

// judge is the second look at a suspect: every change committed before its
// first snapshot has been applied by now.
func (in *Inspector) judge(ctx context.Context, s suspect) {
	rec, ok := in.cached(s.id)
	if !ok {
		in.stats.Inconclusive.Add(1) // evicted: nothing left to be wrong
		return
	}
	ws := divergence(&rec, s.stock, s.pos)
	if len(ws) == 0 {
		return // it was a change in flight
	}
	// Confirm against the database as it is now: an entry that agrees with
	// it is not wrong, whatever the first snapshot said.
	current, currentPos, err := in.load(ctx, s.id)
	if err != nil {
		in.stats.Inconclusive.Add(1)
		return
	}
	if !differsIn(&rec, current, ws) {
		return
	}
	in.stats.Mismatches.Add(1)
	in.log.Error("cache disagrees with the database beyond the staleness bound",
		"product_id", int64(s.id), "cache", describeRows(&rec, ws), "database", describeStock(current, ws),
		"first_seen", s.readAt, "snapshot_position", s.pos.String(), "database_position", currentPos.String(),
		"cache_floor", rec.Floor.String())
}

// divergence returns the warehouses in which rec, the cached record of a
// product, disagrees with stock, the same product's rows in a snapshot at
// pos, among the rows that reflect nothing at or after pos. A row loaded by
// a fill (at the record's floor, or absent) reflects every change before
// the floor; a row set by a change reflects that change: it is comparable
// if its version is before pos. Rows at the floor are compared when the
// floor is pos itself (nothing committed between the two snapshots).
func divergence(rec *inventory.Record, stock []inventory.Stock, pos inventory.Position) []inventory.WarehouseID {
	var ws []inventory.WarehouseID
	comparable := func(r inventory.Row) bool {
		if r.Version == rec.Floor {
			return !pos.Before(rec.Floor)
		}
		return r.Version.Before(pos)
	}
	dbQty := stockMap(stock)
	seen := map[inventory.WarehouseID]bool{}
	for _, r := range rec.Rows {
		seen[r.Warehouse] = true
		if !comparable(r) {
			continue
		}
		q, inDB := dbQty[r.Warehouse]
		if inDB == r.Deleted || inDB && q != r.Qty {
			ws = append(ws, r.Warehouse)
		}
	}
	if !pos.Before(rec.Floor) { // absent rows are at the floor
		for _, st := range stock {
			if !seen[st.Warehouse] {
				ws = append(ws, st.Warehouse)
			}
		}
	}
	return ws
}

// differsIn reports whether rec disagrees with stock in any of ws.
func differsIn(rec *inventory.Record, stock []inventory.Stock, ws []inventory.WarehouseID) bool {
	dbQty := stockMap(stock)
	for _, w := range ws {
		q, inDB := dbQty[w]
		r, inCache := liveRow(rec, w)
		if inDB != inCache || inDB && q != r.Qty {
			return true
		}
	}
	return false
}

func stockMap(stock []inventory.Stock) map[inventory.WarehouseID]int32 {
	m := make(map[inventory.WarehouseID]int32, len(stock))
	for _, s := range stock {
		m[s.Warehouse] = s.Qty
	}
	return m
}

func liveRow(rec *inventory.Record, w inventory.WarehouseID) (inventory.Row, bool) {
	for _, r := range rec.Rows {
		if r.Warehouse == w && !r.Deleted {
			return r, true
		}
	}
	return inventory.Row{}, false
}

func describeRows(rec *inventory.Record, ws []inventory.WarehouseID) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		if r, ok := liveRow(rec, w); ok {
			fmt.Fprintf(&b, "w%d=%d@%s", w, r.Qty, r.Version)
		} else {
			fmt.Fprintf(&b, "w%d=none", w)
		}
	}
	return b.String()
}

func describeStock(stock []inventory.Stock, ws []inventory.WarehouseID) string {
	dbQty := stockMap(stock)
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		if q, ok := dbQty[w]; ok {
			fmt.Fprintf(&b, "w%d=%d", w, q)
		} else {
			fmt.Fprintf(&b, "w%d=none", w)
		}
	}
	return b.String()
}
