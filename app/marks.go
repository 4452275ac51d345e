package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// A mark is the latest position of a change consumed for one key that no
// database snapshot is yet known to include. A fill of the key installs
// only a snapshot after it (rule 2 in fill.go). Marks live in the key's
// stripe, guarded by its mu, and are dropped once any snapshot is seen past
// them: snapshots taken later are later still in the binlog.
type mark struct {
	pos inventory.Position
	// gaveUp is set when a fill gave up waiting for a snapshot after pos:
	// the next fill tries once instead of waiting again.
	gaveUp bool
}

// raiseMark records a change at p consumed for id; the caller holds st.mu.
func (s *Service) raiseMark(st *stripe, id inventory.ProductID, p inventory.Position) {
	m, ok := st.marks[id]
	if ok && !m.pos.Before(p) {
		return
	}
	if st.marks == nil {
		st.marks = make(map[inventory.ProductID]mark)
	}
	if !ok {
		s.marks.count.Add(1)
	}
	st.marks[id] = mark{pos: p}
}

// markBook holds what the marks share across keys.
type markBook struct {
	count atomic.Int64 // marks held in all stripes

	mu sync.Mutex // protects the fields below
	// floorPos is the position of the latest change that concerns every
	// key (a truncate, an undecodable record) and that no snapshot is yet
	// known to include; zero if none. Raised only while every stripe lock
	// is held, so a flight's registration sees it or is invalidated by it.
	floorPos inventory.Position
	floorHop bool               // a fill gave up waiting for floorPos
	seen     inventory.Position // the latest snapshot position any load showed
}

// needFloor is the floor as a flight registering now sees it.
type needFloor struct {
	pos    inventory.Position
	gaveUp bool
}

func (b *markBook) floor() needFloor {
	b.mu.Lock()
	defer b.mu.Unlock()
	return needFloor{b.floorPos, b.floorHop}
}

// need is what a flight must wait for: the later of the floor and the
// key's mark, and whether a fill already gave up on it.
func (f needFloor) need(m mark) (inventory.Position, bool) {
	if f.pos.Before(m.pos) {
		return m.pos, m.gaveUp
	}
	return f.pos, f.gaveUp && !f.pos.IsZero()
}

// raiseFloor records a change at p that concerns every key; the caller
// holds every stripe lock.
func (b *markBook) raiseFloor(p inventory.Position) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.floorPos.Before(p) {
		b.floorPos, b.floorHop = p, false
	}
}

func (b *markBook) floorGaveUp(p inventory.Position) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.floorPos == p {
		b.floorHop = true
	}
}

// observe records that the database showed a snapshot at p.
func (b *markBook) observe(p inventory.Position) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seen = b.seen.Max(p)
	if b.floorPos.Before(b.seen) {
		b.floorPos, b.floorHop = inventory.Position{}, false
	}
}

func (b *markBook) waiting() bool {
	if b.count.Load() > 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.floorPos.IsZero()
}

// pruneMarks drops every mark a snapshot is known to include.
func (s *Service) pruneMarks() {
	s.marks.mu.Lock()
	seen := s.marks.seen
	s.marks.mu.Unlock()
	for i := range s.stripes {
		st := &s.stripes[i]
		st.mu.Lock()
		for id, m := range st.marks {
			if m.pos.Before(seen) {
				delete(st.marks, id)
				s.marks.count.Add(-1)
			}
		}
		st.mu.Unlock()
	}
}

// Run does the Service's upkeep until ctx ends, every Config.UpkeepEvery:
// while marks are held, fills are failing or a directory reload is
// pending, it reads the warehouses in a snapshot (a small consistent read)
// so that marks the database has caught up with are dropped even when no
// fill happens, a database that answers again clears the fill failure, and
// the reload is applied; then it drops the marks a snapshot is known to
// include. It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.UpkeepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.upkeep(ctx)
		}
	}
}

func (s *Service) upkeep(ctx context.Context) {
	if s.marks.waiting() || s.health.problem(0) != nil || s.dirStale.Load() {
		ctx, cancel := context.WithTimeout(ctx, s.cfg.LoadTimeout)
		ws, p, err := s.store.LoadWarehouses(ctx)
		cancel()
		if err != nil {
			s.health.failed(err)
			return
		}
		s.health.succeeded()
		s.marks.observe(p)
		s.refreshDirectory(ws, p)
	}
	if s.marks.count.Load() > 0 {
		s.pruneMarks()
	}
}

// Marks returns how many keys hold a mark: consumed changes that no
// database snapshot is yet known to include. It stays near zero when the
// database and the stream agree; a growing count means the stream is ahead
// of the database the node reads.
func (s *Service) Marks() int64 { return s.marks.count.Load() }
