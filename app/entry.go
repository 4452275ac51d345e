package app

import (
	"encoding/binary"
	"errors"

	"github.com/gintoki/gintoki/inventory"
)

// An entry is one product's cache value: the record (every row with its
// version, so changes can be applied in place and replays rejected) and the
// response body of each renderer, encoded once. Layout, little-endian:
//
//	[0]      format (entryFormat)
//	[1:9]    directory epoch the bodies were rendered with
//	[9]      flags (flagExists)
//	[10:26]  floor position: file u32, offset u64, row u32
//	[26:28]  number of rows n
//	n × 25   rows: warehouse i32, qty i32, deleted u8, version (16 bytes)
//	[+0]     number of bodies m
//	m ×      body: length u32, bytes
//
// The hit path reads the epoch, the flags and one body without decoding the
// rows.
const (
	entryFormat  = 1
	flagExists   = 1
	entryHeader  = 28
	entryRowSize = 25
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
	b := make([]byte, 0, entryHeader+len(rec.Rows)*entryRowSize+1+len(renderers)*160)
	b = append(b, entryFormat)
	b = binary.LittleEndian.AppendUint64(b, dir.Epoch())
	var flags byte
	if exists {
		flags |= flagExists
	}
	b = append(b, flags)
	b = appendPosition(b, rec.Floor)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(rec.Rows)))
	for _, r := range rec.Rows {
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Warehouse))
		b = binary.LittleEndian.AppendUint32(b, uint32(r.Qty))
		var del byte
		if r.Deleted {
			del = 1
		}
		b = append(b, del)
		b = appendPosition(b, r.Version)
	}
	if !exists {
		return append(b, 0) // a negative entry has no bodies
	}
	b = append(b, byte(len(renderers)))
	for _, r := range renderers {
		lenAt := len(b)
		b = append(b, 0, 0, 0, 0)
		b = r.AppendInventory(b, &inv)
		binary.LittleEndian.PutUint32(b[lenAt:], uint32(len(b)-lenAt-4))
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
	off := entryHeader + int(binary.LittleEndian.Uint16(e[26:]))*entryRowSize
	if off >= len(e) {
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
		if off+4 > len(e) {
			return entryView{}, errCorruptEntry
		}
		l := int(binary.LittleEndian.Uint32(e[off:]))
		off += 4
		if off+l > len(e) {
			return entryView{}, errCorruptEntry
		}
		if j == i {
			v.body = e[off : off+l : off+l]
			return v, nil
		}
		off += l
	}
}

// decodeRecord decodes the record of product id from an entry.
func decodeRecord(id inventory.ProductID, e []byte) (inventory.Record, error) {
	if len(e) < entryHeader || e[0] != entryFormat {
		return inventory.Record{}, errCorruptEntry
	}
	n := int(binary.LittleEndian.Uint16(e[26:]))
	if len(e) < entryHeader+n*entryRowSize {
		return inventory.Record{}, errCorruptEntry
	}
	rec := inventory.Record{Product: id, Floor: readPosition(e[10:]), Rows: make([]inventory.Row, n)}
	for i := range rec.Rows {
		r := e[entryHeader+i*entryRowSize:]
		rec.Rows[i] = inventory.Row{
			Warehouse: inventory.WarehouseID(binary.LittleEndian.Uint32(r)),
			Qty:       int32(binary.LittleEndian.Uint32(r[4:])),
			Deleted:   r[8] == 1,
			Version:   readPosition(r[9:]),
		}
	}
	return rec, nil
}
