package app

import (
	"errors"
	"fmt"
	"time"

	"github.com/gintoki/gintoki/inventory"
)

// UnapplicableError is returned, wrapped or not, by a Decoder for a record
// of a tracked table that it cannot turn into a change: the change the
// record carried is lost, so the Feed evicts what it could have changed.
type UnapplicableError struct {
	// Warehouse is true for a record of the warehouse table: the lost
	// change could have touched the directory, which is reloaded.
	Warehouse bool
	// Product is the one product the record names (in its key or row
	// images) when KeyKnown; the lost change can only have touched it.
	Product inventory.ProductID
	// KeyKnown is false when the record names no valid product, names
	// several, or is a truncate: the lost change could have touched any
	// product.
	KeyKnown bool
	// Err says why the record cannot be applied.
	Err error
}

func (e *UnapplicableError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *UnapplicableError) Unwrap() error { return e.Err }

// Logging of rejected records: every one is logged at error level, up to
// feedLogBurst lines per feedLogWindow; beyond that they are only counted,
// and the next line logged says how many were not.
const (
	feedLogBurst  = 20
	feedLogWindow = 10 * time.Second
)

// reject counts, logs and evicts for a record that cannot be applied. A
// record of the stock table evicts the entry of the product it names, or
// every entry when it names none: the change it carried is lost, and a
// cached answer it should have changed must not stay as if fresh. The next
// read fills from the database, which has the change.
func (f *Feed) reject(m *StreamRecord, err error) {
	reason := "malformed"
	if f.reason != nil {
		reason = f.reason(err)
	}
	// Counted before the eviction, so that whoever sees its effect (a
	// refill) also sees the count.
	f.mu.Lock()
	f.malformed[reason]++
	now := time.Now()
	if now.Sub(f.logWindowStart) >= f.logWindow {
		f.logWindowStart, f.logsInWindow = now, 0
	}
	logNow := f.logsInWindow < f.logBurst
	var suppressed uint64
	if logNow {
		f.logsInWindow++
		suppressed, f.suppressed = f.suppressed, 0
	} else {
		f.suppressed++
	}
	f.mu.Unlock()
	evicted := "nothing"
	var ue *UnapplicableError
	if errors.As(err, &ue) {
		evicted = f.evict(ue)
	}
	if logNow {
		f.log.Error("change record cannot be applied; skipped",
			"topic", m.Topic, "partition", m.Partition, "offset", m.Offset, "reason", reason, "evicted", evicted,
			"not_logged_before_this", suppressed, "err", err)
	}
}

// evict drops what the lost change could have touched and says what.
func (f *Feed) evict(ue *UnapplicableError) string {
	if ue.Warehouse {
		f.svc.RefreshDirectory()
		f.reloads.Add(1)
		return "the warehouse directory (reloading; answers marked stale until then)"
	}
	if ue.KeyKnown {
		f.evictedProducts.Add(1)
		f.svc.Invalidate(ue.Product)
		return fmt.Sprintf("product %d", ue.Product)
	}
	f.evictedAll.Add(1)
	f.svc.InvalidateAll()
	return "every product"
}
