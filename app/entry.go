package app

import (
	"encoding/binary"
	"errors"

	"github.com/gintoki/gintoki/inventory"
)

// An entry is one product's cache value: the response body of each
// renderer, encoded once, and the record (every row with its version, so
// changes can be applied in place and replays rejected). Layout:
//
//	[0]      format (entryFormat)
//	[1]      flags (flagExists)
//	uvarint  directory epoch the bodies were rendered with
//	bodies:  count byte (0 in a negative entry), then per body: uvarint
//	         length, bytes
//	floor:   position as uvarints: file, offset, row
//	rows:    uvarint count, then per row: uvarint warehouse, varint qty,
//	         a flags byte (rowDeleted, rowVersioned) and, if rowVersioned,
//	         the row's version (a position as above); a row without it is
//	         at the floor
//
// The hit path reads the flags, the epoch and one body, and stops there: the
// bodies come first. Most rows come from a fill and sit at the floor, so a
// row costs about four bytes, and the whole record about a dozen.
const (
	entryFormat = 3
	flagExists  = 1

	rowDeleted   = 1
	rowVersioned = 2
)

var errCorruptEntry = errors.New("corrupt cache entry")

func appendPosition(b []byte, p inventory.Position) []byte {
	b = binary.AppendUvarint(b, uint64(p.File))
	b = binary.AppendUvarint(b, p.Offset)
	return binary.AppendUvarint(b, uint64(p.Row))
}

// readPosition reads a position at e[off:] and returns it and the offset
// after it.
func readPosition(e []byte, off int) (inventory.Position, int, error) {
	file, k1 := binary.Uvarint(e[off:])
	if k1 <= 0 || file > 1<<32-1 {
		return inventory.Position{}, 0, errCorruptEntry
	}
	off += k1
	offset, k2 := binary.Uvarint(e[off:])
	if k2 <= 0 {
		return inventory.Position{}, 0, errCorruptEntry
	}
	off += k2
	row, k3 := binary.Uvarint(e[off:])
	if k3 <= 0 || row > 1<<32-1 {
		return inventory.Position{}, 0, errCorruptEntry
	}
	return inventory.Position{File: uint32(file), Offset: offset, Row: uint32(row)}, off + k3, nil
}

// encodeEntry renders rec with dir through every renderer and encodes the
// entry.
func encodeEntry(rec *inventory.Record, dir *inventory.Directory, renderers []Renderer) []byte {
	inv, exists := dir.View(rec)
	b := make([]byte, 0, 24+len(rec.Rows)*6+len(renderers)*160)
	var flags byte
	if exists {
		flags |= flagExists
	}
	b = append(b, entryFormat, flags)
	b = binary.AppendUvarint(b, dir.Epoch())
	if exists {
		b = append(b, byte(len(renderers)))
		// One scratch body, large enough for most products, instead of the
		// handful of allocations growing it from nothing costs: a warm start
		// encodes a million entries.
		body := make([]byte, 0, 256)
		for _, r := range renderers {
			body = r.AppendInventory(body[:0], &inv)
			b = binary.AppendUvarint(b, uint64(len(body)))
			b = append(b, body...)
		}
	} else {
		b = append(b, 0) // a negative entry has no bodies
	}
	b = appendPosition(b, rec.Floor)
	b = binary.AppendUvarint(b, uint64(len(rec.Rows)))
	for _, r := range rec.Rows {
		b = binary.AppendUvarint(b, uint64(uint32(r.Warehouse)))
		b = binary.AppendVarint(b, int64(r.Qty))
		var rf byte
		if r.Deleted {
			rf |= rowDeleted
		}
		if r.Version != rec.Floor {
			rf |= rowVersioned
		}
		b = append(b, rf)
		if rf&rowVersioned != 0 {
			b = appendPosition(b, r.Version)
		}
	}
	return b
}

// entryView is what the hit path reads from an entry without decoding it.
type entryView struct {
	epoch  uint64
	exists bool
	body   []byte // the requested renderer's body; nil for a negative entry
}

// entryBodies reads an entry's flags and epoch, and returns them with the
// body count and the offset of the first body.
func entryBodies(e []byte) (v entryView, n, off int, err error) {
	if len(e) < 3 || e[0] != entryFormat {
		return entryView{}, 0, 0, errCorruptEntry
	}
	epoch, k := binary.Uvarint(e[2:])
	if k <= 0 || 2+k >= len(e) {
		return entryView{}, 0, 0, errCorruptEntry
	}
	off = 2 + k
	v = entryView{epoch: epoch, exists: e[1]&flagExists != 0}
	n = int(e[off])
	if v.exists == (n == 0) {
		return entryView{}, 0, 0, errCorruptEntry
	}
	return v, n, off + 1, nil
}

// viewEntry reads the epoch, the existence flag and the body of format f
// (the entry holds one body per renderer, in the renderers' order).
func viewEntry(e []byte, f BodyFormat) (entryView, error) {
	i := int(f)
	v, n, off, err := entryBodies(e)
	if err != nil || !v.exists {
		return v, err
	}
	if i >= n {
		return entryView{}, errCorruptEntry
	}
	for j := 0; ; j++ {
		l, k := binary.Uvarint(e[off:])
		if k <= 0 || uint64(len(e)-off-k) < l {
			return entryView{}, errCorruptEntry
		}
		off += k
		if j == i {
			v.body = e[off : off+int(l) : off+int(l)]
			return v, nil
		}
		off += int(l)
	}
}

// decodeRecord decodes the record of product id from an entry.
func decodeRecord(id inventory.ProductID, e []byte) (inventory.Record, error) {
	_, nb, off, err := entryBodies(e)
	if err != nil {
		return inventory.Record{}, err
	}
	for range nb {
		l, k := binary.Uvarint(e[off:])
		if k <= 0 || uint64(len(e)-off-k) < l {
			return inventory.Record{}, errCorruptEntry
		}
		off += k + int(l)
	}
	rec := inventory.Record{Product: id}
	if rec.Floor, off, err = readPosition(e, off); err != nil {
		return inventory.Record{}, err
	}
	n, k := binary.Uvarint(e[off:])
	if k <= 0 || n > uint64(len(e)) {
		return inventory.Record{}, errCorruptEntry
	}
	off += k
	rec.Rows = make([]inventory.Row, n)
	for i := range rec.Rows {
		w, k := binary.Uvarint(e[off:])
		if k <= 0 {
			return inventory.Record{}, errCorruptEntry
		}
		off += k
		q, k := binary.Varint(e[off:])
		if k <= 0 || off+k >= len(e) {
			return inventory.Record{}, errCorruptEntry
		}
		off += k
		rf := e[off]
		off++
		r := inventory.Row{Warehouse: inventory.WarehouseID(uint32(w)), Qty: int32(q), Deleted: rf&rowDeleted != 0, Version: rec.Floor}
		if rf&rowVersioned != 0 {
			if r.Version, off, err = readPosition(e, off); err != nil {
				return inventory.Record{}, err
			}
		}
		rec.Rows[i] = r
	}
	if off != len(e) {
		return inventory.Record{}, errCorruptEntry
	}
	return rec, nil
}
