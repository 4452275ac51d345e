package binlog

import (
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// binaryCollation is the id of the "binary" collation: a character column
// with it (BINARY, VARBINARY, BLOB) holds bytes, not text.
const binaryCollation = 63

// columnKind says how a decoded value of a column is turned into a value
// of relay.RowChange.
type columnKind int

const (
	kindAsIs   columnKind = iota
	kindBinary            // string or []byte → []byte
	kindText              // []byte → string (TEXT, JSON)
	kindEnum              // 1-based index → label
	kindSet               // bit set → comma-separated labels
)

// tableShape is what a table map event says about its table, as of that
// event: column names in order, primary key column names in key order, and
// how to convert each column's values. It never consults the live schema,
// so events replayed after an ALTER keep the names they were written with.
type tableShape struct {
	table   string // the table's name, made once rather than for every row
	columns []string
	key     []string
	kinds   []columnKind
	labels  map[int][]string // enum and set labels by column index
}

// shapeOf reads a table map event logged with binlog_row_metadata=FULL.
func shapeOf(t *replication.TableMapEvent) (tableShape, error) {
	names := t.ColumnNameString()
	if len(names) != int(t.ColumnCount) {
		return tableShape{}, fmt.Errorf("table map of %s.%s has %d column names for %d columns: binlog_row_metadata must be FULL when the event is written",
			t.Schema, t.Table, len(names), t.ColumnCount)
	}
	s := tableShape{table: string(t.Table), columns: names, kinds: make([]columnKind, len(names)), labels: map[int][]string{}}
	for _, i := range t.PrimaryKey {
		if int(i) >= len(names) {
			return tableShape{}, fmt.Errorf("table map of %s.%s: primary key column %d of %d", t.Schema, t.Table, i, len(names))
		}
		s.key = append(s.key, names[i])
	}
	collations := t.CollationMap()
	for i := range names {
		switch {
		case t.ColumnType[i] == mysql.MYSQL_TYPE_JSON:
			s.kinds[i] = kindText
		case t.IsCharacterColumn(i) && collations != nil && !t.IsGeometryColumn(i):
			if collations[i] == binaryCollation {
				s.kinds[i] = kindBinary
			} else {
				s.kinds[i] = kindText
			}
		}
	}
	for i, labels := range t.EnumStrValueMap() {
		s.kinds[i], s.labels[i] = kindEnum, labels
	}
	for i, labels := range t.SetStrValueMap() {
		s.kinds[i], s.labels[i] = kindSet, labels
	}
	return s, nil
}

// image turns one decoded row into a column → value map. skipped lists the
// columns the event left out, which only a row image other than FULL does.
func (s *tableShape) image(row []any, skipped []int) (map[string]any, error) {
	if len(skipped) > 0 || len(row) != len(s.columns) {
		return nil, fmt.Errorf("row image has %d of %d columns: binlog_row_image must be FULL when the event is written",
			len(row)-len(skipped), len(s.columns))
	}
	m := make(map[string]any, len(row))
	for i, v := range row {
		m[s.columns[i]] = s.convert(i, v)
	}
	return m, nil
}

func (s *tableShape) convert(i int, v any) any {
	switch s.kinds[i] {
	case kindBinary:
		if x, ok := v.(string); ok {
			return []byte(x)
		}
	case kindText:
		if x, ok := v.([]byte); ok {
			return string(x)
		}
	case kindEnum:
		if x, ok := v.(int64); ok {
			if x == 0 {
				return "" // MySQL's value for an invalid enum
			}
			if labels := s.labels[i]; x > 0 && int(x) <= len(labels) {
				return labels[x-1]
			}
		}
	case kindSet:
		if x, ok := v.(int64); ok {
			var parts []string
			for b, label := range s.labels[i] {
				if x&(1<<b) != 0 {
					parts = append(parts, label)
				}
			}
			return strings.Join(parts, ",")
		}
	}
	return v
}
