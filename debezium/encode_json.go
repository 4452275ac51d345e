package debezium

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// appendKey appends the key record: the key columns of row as a JSON
// object in key order, or nothing for a table without a primary key.
func appendKey(b []byte, key []string, row map[string]any) ([]byte, error) {
	if len(key) == 0 {
		return b, nil
	}
	b = append(b, '{')
	for i, col := range key {
		v, ok := row[col]
		if !ok {
			return b, fmt.Errorf("key column %q is not in the row", col)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, col)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, v); err != nil {
			return b, fmt.Errorf("key column %q: %w", col, err)
		}
	}
	return append(b, '}'), nil
}

// appendRow appends row as a JSON object (null if row is nil): first the
// columns named in order, then any others sorted by name.
func appendRow(b []byte, order []string, row map[string]any) ([]byte, error) {
	if row == nil {
		return append(b, "null"...), nil
	}
	cols := order
	if !encodeExactly(order, row) {
		cols = encodeColumns(order, row)
	}
	b = append(b, '{')
	for i, col := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, col)
		b = append(b, ':')
		var err error
		if b, err = appendJSON(b, row[col]); err != nil {
			return b, fmt.Errorf("column %q: %w", col, err)
		}
	}
	return append(b, '}'), nil
}

// encodeExactly reports whether row has exactly the columns named in
// order, each once: the usual case, which needs no sorting.
func encodeExactly(order []string, row map[string]any) bool {
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

// encodeColumns returns row's columns: first those named in order, then
// any others sorted by name.
func encodeColumns(order []string, row map[string]any) []string {
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

// encodePlain reports whether s is written by encoding/json as itself
// between quotes: printable ASCII with no quote or backslash.
func encodePlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string, as encoding/json writes it
// without HTML escaping. Its argument is a string, not an any, so that
// column names and source fields are not boxed (an allocation each).
func appendString(b []byte, s string) []byte {
	if encodePlain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail: a string
	return append(b, out.Bytes()[:out.Len()-1]...)
}

// appendJSON appends the JSON of v as encoding/json writes it without HTML
// escaping: []byte as base64, which is what Debezium does for binary
// columns. Integers, nil, plain strings and bytes, nearly every value the
// relay writes, are appended directly; anything else goes through
// encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case string:
		if encodePlain(x) {
			return appendString(b, x), nil
		}
	case []byte:
		if x != nil {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, x)
			return append(b, '"'), nil
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, err
	}
	return append(b, out.Bytes()[:out.Len()-1]...), nil // without Encode's trailing newline
}
