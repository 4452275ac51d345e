package relay

import (
	"fmt"
	"time"
)

// Operations a RowChange can carry, as Debezium spells them.
const (
	OpCreate byte = 'c' // a row was inserted: Before is nil
	OpUpdate byte = 'u' // a row was updated: Before and After are set
	OpDelete byte = 'd' // a row was deleted: After is nil
)

// RowChange is one committed row change of one table.
type RowChange struct {
	Database string
	Table    string
	Op       byte // OpCreate, OpUpdate or OpDelete
	// Key names the primary key columns, in key order. It is empty for a
	// table without a primary key.
	Key []string
	// Columns names every column in table order, as of the change, when the
	// source knows it; encoders use it to keep the column order.
	Columns []string
	// Before and After map column names, as of the change, to values: nil,
	// signed or unsigned integers, float32/float64, string, or []byte for
	// binary columns.
	Before, After map[string]any
	Source        SourceInfo
}

// SourceInfo says where in the source stream a RowChange was read.
type SourceInfo struct {
	File     string    // binary log file name, e.g. "mysql-bin.000001"
	Pos      uint64    // start offset of the row event within File
	Row      uint32    // index of the row within that event
	GTID     string    // global transaction id, "" if the source has none
	ServerID uint32    // id of the server that wrote the event
	Time     time.Time // when the transaction was committed
}

// BinlogPosition is a point in the source stream at which reading can
// resume: a binary log file name and a byte offset in it. The zero
// BinlogPosition means "no position": start at the current end of the
// stream.
type BinlogPosition struct {
	File string `json:"file"`
	Pos  uint64 `json:"pos"`
}

// IsZero reports whether p is the zero BinlogPosition.
func (p BinlogPosition) IsZero() bool { return p == BinlogPosition{} }

// String formats p as file:pos.
func (p BinlogPosition) String() string { return fmt.Sprintf("%s:%d", p.File, p.Pos) }

// Transaction is the row changes of one committed transaction that concern
// the relayed tables (possibly none), or a part of them.
//
// A large transaction comes in parts, in order, so that no one holds it
// whole: every part but the last has More set and a zero End. Only the last
// part carries End, the position right after the commit, where reading
// resumes once every part is published. Row events are in the binary log
// only once their transaction has committed, so even a first part is
// committed data.
type Transaction struct {
	Changes []RowChange
	End     BinlogPosition
	More    bool // more parts of the same transaction follow
}

// BrokerRecord is one record for the broker. A nil Value is a tombstone.
type BrokerRecord struct {
	Topic string
	Key   []byte
	Value []byte
}
