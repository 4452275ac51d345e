package debezium

// The encoder as it was before it appended into one buffer per change,
// kept as the reference the current one is checked against, byte for byte
// (FuzzEncodeMatchesReference).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gintoki/gintoki/relay"
)

type refEncoder struct {
	prefix string
	now    func() time.Time
}

func (e *refEncoder) Topic(database, table string) string {
	return e.prefix + "." + database + "." + table
}

// refEncodeSourceBlock is the envelope's "source", fields in Debezium's order.
type refEncodeSourceBlock struct {
	Version   string  `json:"version"`
	Connector string  `json:"connector"`
	Name      string  `json:"name"`
	TsMs      int64   `json:"ts_ms"`
	Snapshot  string  `json:"snapshot"`
	DB        string  `json:"db"`
	Sequence  *string `json:"sequence"`
	Table     string  `json:"table"`
	ServerID  uint32  `json:"server_id"`
	GTID      *string `json:"gtid"`
	File      string  `json:"file"`
	Pos       uint64  `json:"pos"`
	Row       uint32  `json:"row"`
	Thread    *int64  `json:"thread"`
	Query     *string `json:"query"`
}

// Encode implements relay.Encoder. It returns one record, two for a delete
// (the event, then the tombstone), and three for an update of the primary
// key (delete, tombstone, create).
func (e *refEncoder) Encode(c relay.RowChange) ([]relay.BrokerRecord, error) {
	row := c.After
	switch c.Op {
	case relay.OpCreate:
		if c.After == nil || c.Before != nil {
			return nil, errors.New("a create needs an after image and no before image")
		}
	case relay.OpUpdate:
		if c.After == nil || c.Before == nil {
			return nil, errors.New("an update needs before and after images")
		}
		if moved, err := refEncodeKeyChanged(c); err != nil || moved {
			if err != nil {
				return nil, err
			}
			// As Debezium does: an update of the primary key is a delete of
			// the old key (and its tombstone) and a create of the new one,
			// each in its key's partition.
			del, ins := c, c
			del.Op, del.After = relay.OpDelete, nil
			ins.Op, ins.Before = relay.OpCreate, nil
			out, err := e.Encode(del)
			if err != nil {
				return nil, err
			}
			more, err := e.Encode(ins)
			return append(out, more...), err
		}
	case relay.OpDelete:
		if c.Before == nil || c.After != nil {
			return nil, errors.New("a delete needs a before image and no after image")
		}
		row = c.Before
	default:
		return nil, fmt.Errorf("unknown op %q", c.Op)
	}

	key, err := refEncodeKey(c.Key, row)
	if err != nil {
		return nil, err
	}

	var v bytes.Buffer
	v.WriteString(`{"before":`)
	if err := refEncodeRow(&v, c.Columns, c.Before); err != nil {
		return nil, fmt.Errorf("before image: %w", err)
	}
	v.WriteString(`,"after":`)
	if err := refEncodeRow(&v, c.Columns, c.After); err != nil {
		return nil, fmt.Errorf("after image: %w", err)
	}
	v.WriteString(`,"source":`)
	if err := refEncodeSource(&v, e.sourceBlock(c)); err != nil {
		return nil, fmt.Errorf("source block: %w", err)
	}
	fmt.Fprintf(&v, `,"op":"%c","ts_ms":%d,"transaction":null}`, c.Op, e.now().UnixMilli())

	topic := e.Topic(c.Database, c.Table)
	msgs := []relay.BrokerRecord{{Topic: topic, Key: key, Value: v.Bytes()}}
	if c.Op == relay.OpDelete {
		msgs = append(msgs, relay.BrokerRecord{Topic: topic, Key: key})
	}
	return msgs, nil
}

// refEncodeKeyChanged reports whether an update changes the primary key.
func refEncodeKeyChanged(c relay.RowChange) (bool, error) {
	before, err := refEncodeKey(c.Key, c.Before)
	if err != nil {
		return false, err
	}
	after, err := refEncodeKey(c.Key, c.After)
	if err != nil {
		return false, err
	}
	return !bytes.Equal(before, after), nil
}

func (e *refEncoder) sourceBlock(c relay.RowChange) refEncodeSourceBlock {
	s := refEncodeSourceBlock{
		Version:   encodeVersion,
		Connector: encodeConnector,
		Name:      e.prefix,
		Snapshot:  "false",
		DB:        c.Database,
		Table:     c.Table,
		ServerID:  c.Source.ServerID,
		File:      c.Source.File,
		Pos:       c.Source.Pos,
		Row:       c.Source.Row,
	}
	if !c.Source.Time.IsZero() {
		s.TsMs = c.Source.Time.UnixMilli()
	}
	if c.Source.GTID != "" {
		s.GTID = &c.Source.GTID
	}
	return s
}

// refEncodeKey returns the key record: the key columns of row as a JSON
// object in key order, or nil for a table without a primary key.
func refEncodeKey(key []string, row map[string]any) ([]byte, error) {
	if len(key) == 0 {
		return nil, nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, col := range key {
		v, ok := row[col]
		if !ok {
			return nil, fmt.Errorf("key column %q is not in the row", col)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if err := refEncodeJSON(&b, col); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := refEncodeJSON(&b, v); err != nil {
			return nil, fmt.Errorf("key column %q: %w", col, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// refEncodeRow writes row as a JSON object (null if row is nil): first the
// columns named in order, then any others sorted by name.
func refEncodeRow(b *bytes.Buffer, order []string, row map[string]any) error {
	if row == nil {
		b.WriteString("null")
		return nil
	}
	cols := order
	if !refEncodeExactly(order, row) {
		cols = refEncodeColumns(order, row)
	}
	b.WriteByte('{')
	for i, col := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := refEncodeJSON(b, col); err != nil {
			return err
		}
		b.WriteByte(':')
		if err := refEncodeJSON(b, row[col]); err != nil {
			return fmt.Errorf("column %q: %w", col, err)
		}
	}
	b.WriteByte('}')
	return nil
}

// refEncodeExactly reports whether row has exactly the columns named in
// order, each once: the usual case, which needs no sorting.
func refEncodeExactly(order []string, row map[string]any) bool {
	if len(order) != len(row) {
		return false
	}
	for i, col := range order {
		if _, ok := row[col]; !ok || slices.Contains(order[:i], col) {
			return false
		}
	}
	return true
}

// refEncodeColumns returns row's columns: first those named in order, then
// any others sorted by name.
func refEncodeColumns(order []string, row map[string]any) []string {
	cols := make([]string, 0, len(row))
	seen := make(map[string]bool, len(row))
	for _, col := range order {
		if _, ok := row[col]; ok && !seen[col] {
			cols = append(cols, col)
			seen[col] = true
		}
	}
	if len(cols) < len(row) {
		rest := make([]string, 0, len(row)-len(cols))
		for col := range row {
			if !seen[col] {
				rest = append(rest, col)
			}
		}
		slices.Sort(rest)
		cols = append(cols, rest...)
	}
	return cols
}

// refEncodeSource writes the source block as encoding/json would write the
// struct, field by field: the relay writes one per row, and reflection
// would cost more than the rest of the event.
func refEncodeSource(b *bytes.Buffer, s refEncodeSourceBlock) error {
	field := func(name string, first bool) {
		if !first {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(name)
		b.WriteString(`":`)
	}
	str := func(name, v string) error {
		field(name, false)
		return refEncodeJSON(b, v)
	}
	optStr := func(name string, v *string) error {
		field(name, false)
		if v == nil {
			b.WriteString("null")
			return nil
		}
		return refEncodeJSON(b, *v)
	}
	uint := func(name string, v uint64) {
		field(name, false)
		b.Write(strconv.AppendUint(b.AvailableBuffer(), v, 10))
	}
	b.WriteByte('{')
	field("version", true)
	err := refEncodeJSON(b, s.Version)
	err = errors.Join(err, str("connector", s.Connector), str("name", s.Name))
	field("ts_ms", false)
	b.Write(strconv.AppendInt(b.AvailableBuffer(), s.TsMs, 10))
	err = errors.Join(err, str("snapshot", s.Snapshot), str("db", s.DB), optStr("sequence", s.Sequence), str("table", s.Table))
	uint("server_id", uint64(s.ServerID))
	err = errors.Join(err, optStr("gtid", s.GTID), str("file", s.File))
	uint("pos", s.Pos)
	uint("row", uint64(s.Row))
	field("thread", false)
	if s.Thread == nil {
		b.WriteString("null")
	} else {
		b.Write(strconv.AppendInt(b.AvailableBuffer(), *s.Thread, 10))
	}
	err = errors.Join(err, optStr("query", s.Query))
	b.WriteByte('}')
	return err
}

// refEncodePlain reports whether s is written by encoding/json as itself
// between quotes: printable ASCII with no quote or backslash.
func refEncodePlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// refEncodeJSON appends the JSON of v without HTML escaping. encoding/json
// writes []byte as base64, which is what Debezium does for binary columns.
// Integers, nil and plain strings, nearly every value the relay writes,
// are written directly, as encoding/json would.
func refEncodeJSON(b *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case int64:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), x, 10))
		return nil
	case int32:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
		return nil
	case int16:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
		return nil
	case int8:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
		return nil
	case int:
		b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(x), 10))
		return nil
	case uint64:
		b.Write(strconv.AppendUint(b.AvailableBuffer(), x, 10))
		return nil
	case uint32:
		b.Write(strconv.AppendUint(b.AvailableBuffer(), uint64(x), 10))
		return nil
	case uint16:
		b.Write(strconv.AppendUint(b.AvailableBuffer(), uint64(x), 10))
		return nil
	case uint8:
		b.Write(strconv.AppendUint(b.AvailableBuffer(), uint64(x), 10))
		return nil
	case string:
		if refEncodePlain(x) {
			b.WriteByte('"')
			b.WriteString(x)
			b.WriteByte('"')
			return nil
		}
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's trailing newline
	return nil
}
