package inventory

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a point in the source database's change stream: the sequence
// number of a binary log file, a byte offset in it, and the index of a row
// within one row event. Positions of one server are totally ordered, and a
// transaction committed later has a greater position than every row of a
// transaction committed before it.
//
// The zero Position is before every change.
type Position struct {
	File   uint32 // sequence number of the binlog file ("mysql-bin.000042" is 42)
	Offset uint64 // byte offset within that file
	Row    uint32 // index of the row within its row event
}

// ParsePosition builds a Position from a binlog file name such as
// "mysql-bin.000042", an offset and a row index.
func ParsePosition(file string, offset uint64, row uint32) (Position, error) {
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 || dot == len(file)-1 {
		return Position{}, fmt.Errorf("binlog file name %q has no numeric suffix", file)
	}
	seq, err := strconv.ParseUint(file[dot+1:], 10, 32)
	if err != nil {
		return Position{}, fmt.Errorf("binlog file name %q: %w", file, err)
	}
	return Position{File: uint32(seq), Offset: offset, Row: row}, nil
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.File != q.File:
		return cmp3(p.File < q.File)
	case p.Offset != q.Offset:
		return cmp3(p.Offset < q.Offset)
	case p.Row != q.Row:
		return cmp3(p.Row < q.Row)
	}
	return 0
}

func cmp3(less bool) int {
	if less {
		return -1
	}
	return 1
}

// Before reports whether p is strictly before q.
func (p Position) Before(q Position) bool { return p.Compare(q) < 0 }

// Max returns the later of p and q.
func (p Position) Max(q Position) Position {
	if p.Before(q) {
		return q
	}
	return p
}

// IsZero reports whether p is the zero Position.
func (p Position) IsZero() bool { return p == Position{} }

// String formats p as file:offset:row.
func (p Position) String() string {
	return fmt.Sprintf("%d:%d:%d", p.File, p.Offset, p.Row)
}
