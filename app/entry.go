package app

import (
	"encoding/binary"
	"errors"

	"github.com/gintoki/gintoki/inventory"
)

// An entry is one product's cache value: the record (every row with its
// version, so changes can be applied in place and replays rejected) and the
// response body of each renderer, encoded once. Layout (fixed-size fields
// little-endian):
//
//	[0]      format (entryFormat)
//	[1:9]    directory epoch the bodies were rendered with
//	[9]      flags (flagExists)
//	[10:26]  floor position: file u32, offset u64, row u32
//	[26:30]  offset of the bodies section
//	rows:    uvarint count, then per row: uvarint warehouse, varint qty,
//	         a flags byte (rowDeleted, rowVersioned) and, if rowVersioned,
//	         the row's version (16 bytes); a row without it is at the floor
//	bodies:  count byte, then per body: uvarint length, bytes
//
// Most rows come from a fill and sit at the floor, so a row costs about four
// bytes. The hit path reads the epoch, the flags and one body, jumping over
// the rows.
const (
	entryFormat = 2
	flagExists  = 1
	entryHeader = 30

	rowDeleted   = 1
	rowVersioned = 2
)

var errCorruptEntry = errors.New("corrupt cache entry")

func appendPosition(b []byte, p inventory.Position) []byte {
	b = binary.LittleEndian.AppendUint32(b, p.File)
	b = binary.LittleEndian.AppendUint64(b, p.Offset)
	return binary.LittleEndian.AppendUint32(b, p.Row)
}

func readPosition(b []byte) inventory.Position {
	return inventory.Position{
		File:   binary.LittleEndian.Uint32(b),
		Offset: binary.LittleEndian.Uint64(b[4:]),
		Row:    binary.LittleEndian.Uint32(b[12:]),
	}
}

// encodeEntry renders rec with dir through every renderer and encodes the
// entry.
func encodeEntry(rec *inventory.Record, dir *inventory.Directory, renderers []Renderer) []byte {
	inv, exists := dir.View(rec)
	b := make([]byte, 0, entryHeader+len(rec.Rows)*6+2+len(renderers)*160)
	b = append(b, entryFormat)
	b = binary.LittleEndian.AppendUint64(b, dir.Epoch())
	var flags byte
	if exists {
		flags |= flagExists
	}
	b = append(b, flags)
	b = appendPosition(b, rec.Floor)
	b = append(b, 0, 0, 0, 0) // bodies offset, set below
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
	binary.LittleEndian.PutUint32(b[26:], uint32(len(b)))
	if !exists {
		return append(b, 0) // a negative entry has no bodies
	}
	b = append(b, byte(len(renderers)))
	var body []byte
	for _, r := range renderers {
		body = r.AppendInventory(body[:0], &inv)
		b = binary.AppendUvarint(b, uint64(len(body)))
		b = append(b, body...)
	}
	return b
}

// entryView is what the hit path reads from an entry without decoding it.
type entryView struct {
	epoch  uint64
	exists bool
	body   []byte // the requested renderer's body; nil for a negative entry
}

// viewEntry reads the epoch, the existence flag and body number i.
func viewEntry(e []byte, i int) (entryView, error) {
	if len(e) < entryHeader || e[0] != entryFormat {
		return entryView{}, errCorruptEntry
	}
	v := entryView{epoch: binary.LittleEndian.Uint64(e[1:]), exists: e[9]&flagExists != 0}
	off := int(binary.LittleEndian.Uint32(e[26:]))
	if off < entryHeader || off >= len(e) {
		return entryView{}, errCorruptEntry
	}
	n := int(e[off])
	off++
	if !v.exists {
		return v, nil
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
	if len(e) < entryHeader || e[0] != entryFormat {
		return inventory.Record{}, errCorruptEntry
	}
	rec := inventory.Record{Product: id, Floor: readPosition(e[10:])}
	off := entryHeader
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
			if off+16 > len(e) {
				return inventory.Record{}, errCorruptEntry
			}
			r.Version = readPosition(e[off:])
			off += 16
		}
		rec.Rows[i] = r
	}
	return rec, nil
}
