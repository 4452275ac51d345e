package inventory

import (
	"maps"
)

// WarehouseID identifies a warehouse.
type WarehouseID int32

// Warehouse is a place that holds stock. Only active warehouses appear in a
// product's inventory.
type Warehouse struct {
	ID     WarehouseID
	Code   string
	Active bool
}

type dirEntry struct {
	Warehouse
	deleted bool
	version Position
}

// Directory is an immutable snapshot of every warehouse a node knows, with
// the stream position each reflects. Applying a change returns a new
// Directory with a greater Epoch, so readers can hold one without locks and
// tell from the epoch whether what they rendered with it is current.
type Directory struct {
	epoch   uint64
	floor   Position
	entries map[WarehouseID]dirEntry
}

// NewDirectory builds a Directory from the warehouses of a database snapshot
// taken at pos.
func NewDirectory(pos Position, warehouses []Warehouse) *Directory {
	d := &Directory{epoch: 1, floor: pos, entries: make(map[WarehouseID]dirEntry, len(warehouses))}
	for _, w := range warehouses {
		d.entries[w.ID] = dirEntry{Warehouse: w, version: pos}
	}
	return d
}

// Epoch increases with every change applied to the directory.
func (d *Directory) Epoch() uint64 { return d.epoch }

// Lookup returns the warehouse with the given id, if it exists.
func (d *Directory) Lookup(id WarehouseID) (Warehouse, bool) {
	e, ok := d.entries[id]
	if !ok || e.deleted {
		return Warehouse{}, false
	}
	return e.Warehouse, true
}

// Len returns the number of warehouses that exist.
func (d *Directory) Len() int {
	n := 0
	for _, e := range d.entries {
		if !e.deleted {
			n++
		}
	}
	return n
}

// Apply returns the directory with c applied, or d itself if c changes
// nothing (it is older than what d reflects for that warehouse, or a
// duplicate). The version rule is the same as Record.Apply's.
func (d *Directory) Apply(c WarehouseChange) *Directory {
	if c.Pos.Before(d.floor) {
		return d
	}
	old, found := d.entries[c.Warehouse.ID]
	if found && c.Pos.Before(old.version) {
		return d
	}
	next := dirEntry{Warehouse: c.Warehouse, deleted: c.Deleted, version: c.Pos}
	if found && old == next {
		return d
	}
	if found && old.Warehouse == next.Warehouse && old.deleted == next.deleted {
		// Same content at a newer version: record the version, keep the epoch,
		// so cached renderings stay valid.
		nd := d.clone(d.epoch)
		nd.entries[c.Warehouse.ID] = next
		return nd
	}
	nd := d.clone(d.epoch + 1)
	nd.entries[c.Warehouse.ID] = next
	return nd
}

func (d *Directory) clone(epoch uint64) *Directory {
	return &Directory{epoch: epoch, floor: d.floor, entries: maps.Clone(d.entries)}
}

// Truncate returns the directory after the whole warehouse table was
// emptied at pos: warehouses older than pos are gone; changes at or after
// pos that were applied first stay.
func (d *Directory) Truncate(pos Position) *Directory {
	if pos.Before(d.floor) {
		return d
	}
	nd := &Directory{epoch: d.epoch + 1, floor: pos, entries: make(map[WarehouseID]dirEntry, len(d.entries))}
	for id, e := range d.entries {
		if !e.version.Before(pos) {
			nd.entries[id] = e
		}
	}
	return nd
}

// Refresh returns the directory after reading every warehouse again in a
// database snapshot taken at pos: what the snapshot shows replaces what d
// reflects from before pos, a warehouse d has from before pos and the
// snapshot lacks is gone, and changes at or after pos that d already
// applied stay. It repairs a directory that may have missed a change
// before pos (a record that could not be decoded).
func (d *Directory) Refresh(pos Position, warehouses []Warehouse) *Directory {
	nd := &Directory{epoch: d.epoch + 1, floor: d.floor.Max(pos), entries: make(map[WarehouseID]dirEntry, len(warehouses))}
	for _, w := range warehouses {
		nd.entries[w.ID] = dirEntry{Warehouse: w, version: pos}
	}
	for id, e := range d.entries {
		if !e.version.Before(pos) { // at or after the snapshot: newer than it
			nd.entries[id] = e
		}
	}
	return nd
}
